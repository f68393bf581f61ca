"""Training images per second: the pipeline's loop against a minimal plain PyTorch AMP loop, in one run.

    PYTHONPATH=src python benchmarks/train_speed.py --device cuda --out benchmarks/results/train_speed_<gpu>.json
    PYTHONPATH=src python benchmarks/train_speed.py --device cpu --threads 2 --size 64 --images 256 \
        --batch 32 --models bagnet33 resnet50 --out benchmarks/results/train_speed_cpu_2threads.json

Both loops train the same network (15 classes, linear head) on the same synthetic uint8 images with the
scratch recipe's optimizer, batch, label smoothing and autocast dtype (bf16 on CUDA, none on the CPU).

- ours: ``trainer.Trainer.epoch`` on images staged by ``stage_images`` (on the GPU when they fit), with the
  recipe's batched crop + flip on the device, channels_last, and the loss and accuracy counted on the device.
- plain: what a minimal hand-written loop does: a shuffled index into the host tensor, ``.to(device)`` of
  the batch, normalization, forward and backward under autocast, ``optimizer.step()``, and ``loss.item()``
  and the accuracy read every step (no augmentation at all, so it does less work than ours).

Each loop runs one untimed warm-up epoch, then ``--epochs`` timed ones; the result is images/s of the timed
epochs and ours / plain.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from bagnet_repro.compute.device import describe_device, timed
from bagnet_repro.config.catalog import CNN_BASELINES, ORIGINAL_BAGNETS
from bagnet_repro.config.classes import REPORT_CLASSES
from bagnet_repro.config.recipes import recipe_values
from bagnet_repro.config.train_settings import TrainSettings
from bagnet_repro.data.loading import normalize
from bagnet_repro.evaluation.inference import autocast_dtype
from bagnet_repro.models import build_model
from bagnet_repro.training.optimization import build_optimizer
from bagnet_repro.training.staging import stage_images
from bagnet_repro.training.trainer import Trainer

REPORT_MODELS = [*ORIGINAL_BAGNETS, *CNN_BASELINES]  # the report's seven, from the catalog
CLASSES = len(REPORT_CLASSES)  # the 15 scenes


def ours(
    settings: TrainSettings, images: torch.Tensor, labels: torch.Tensor, device: torch.device, epochs: int
) -> float:
    model = build_model(settings.model, CLASSES, head="linear").to(device)
    if settings.channels_last:
        model.to(memory_format=torch.channels_last)
    trainer = Trainer(model, build_optimizer(model, settings), settings, device, CLASSES)
    staged = stage_images(images, device)
    staged_labels = labels.to(staged.device)
    trainer.epoch(staged, staged_labels, 0)  # warm-up
    _, seconds = timed(lambda: [trainer.epoch(staged, staged_labels, epoch) for epoch in range(1, epochs + 1)], device)
    return epochs * len(labels) / seconds


def plain(
    settings: TrainSettings, images: torch.Tensor, labels: torch.Tensor, device: torch.device, epochs: int
) -> float:
    model = build_model(settings.model, CLASSES, head="linear").to(device)
    optimizer = build_optimizer(model, settings)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
    dtype = autocast_dtype(settings.precision, device)

    def one_epoch() -> None:
        model.train()
        order = torch.randperm(len(labels))
        for start in range(0, len(order), settings.batch_size):
            index = order[start : start + settings.batch_size]
            inputs, targets = normalize(images[index]).to(device), labels[index].to(device)
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                logits = model(inputs)
                loss = loss_fn(logits.float(), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            _ = loss.item(), (logits.argmax(1) == targets).sum().item()  # the usual per-step logging

    one_epoch()  # warm-up
    _, seconds = timed(lambda: [one_epoch() for _ in range(epochs)], device)
    return epochs * len(labels) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=REPORT_MODELS)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--images", type=int, default=1200, help="synthetic training images (the report's 1200)")
    parser.add_argument("--batch", type=int, default=None, help="default: the scratch recipe's")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per loop")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (args.images, 3, args.size, args.size), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, CLASSES, (args.images,), generator=generator)
    values = recipe_values("scratch", {"image_size": args.size, "batch_size": args.batch, "device": args.device})
    rows = []
    for model in args.models:
        settings = replace(TrainSettings(model=model, **values), seed=0)
        torch.manual_seed(0)
        plain_rate = plain(settings, images, labels, device, args.epochs)
        torch.manual_seed(0)
        ours_rate = ours(settings, images, labels, device, args.epochs)
        rows.append(
            {
                "model": model,
                "ours_images_per_s": round(ours_rate, 2),
                "plain_images_per_s": round(plain_rate, 2),
                "ours_over_plain": round(ours_rate / plain_rate, 3),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        if device.type == "cuda":
            torch.cuda.empty_cache()
    result = {
        "machine": describe_device(device),
        "device": str(device),
        "torch": torch.__version__,
        "image_size": args.size,
        "images": args.images,
        "batch_size": values["batch_size"],
        "autocast": str(autocast_dtype(values["precision"], device) or "none (fp32)"),
        "epochs_timed": args.epochs,
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
