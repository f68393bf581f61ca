"""Pretraining throughput, to plan workers and GPUs: how fast the loader decodes and augments ImageNet-sized
JPEGs per worker, and how many images per second one rank trains.

    PYTHONPATH=src python benchmarks/pretrain_throughput.py --model bagnet33 --device cpu --threads 2 \
        --out benchmarks/results/pretrain_throughput_cpu_2threads.json

The loader reads synthetic 500x375 JPEGs (ImageNet's typical size) through the pretraining transform;
the step is the real DDP replica (a group of one) at 224 px with the recipe's precision on the device.
``workers_per_rank_needed`` is the step rate divided by the per-worker loading rate.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from bagnet_repro.compute.device import describe_device, timed
from bagnet_repro.config.recipes import recipe_values
from bagnet_repro.data.streaming import StreamedImages, train_transform
from bagnet_repro.training import distributed
from bagnet_repro.training.pretrain import Replica, pretrain_settings


def synthetic_jpegs(folder: Path, count: int) -> list[tuple[str, int]]:
    rng = np.random.default_rng(0)
    items = []
    for index in range(count):
        path = folder / f"image_{index}.JPEG"
        Image.fromarray(rng.integers(0, 256, (375, 500, 3), dtype=np.uint8)).save(path, quality=90)
        items.append((str(path), index % 10))
    return items


def loader_rate(items, workers: int, batch: int, size: int) -> float:
    data = StreamedImages(items, train_transform(size))
    loader = DataLoader(data, batch_size=batch, shuffle=True, num_workers=workers)
    start = time.perf_counter()
    seen = sum(len(labels) for _, labels in loader)
    return seen / (time.perf_counter() - start)


def step_rate(model: str, device: str, batch: int, size: int, steps: int, precision: str) -> float:
    ranks = distributed.init_group(device)
    try:
        values = recipe_values("bagnets_v2", {"batch_size": batch, "image_size": size, "precision": precision})
        replica = Replica(pretrain_settings({**values, "model": model, "device": device}), 1000, ranks)
        images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8)
        labels = torch.randint(0, 1000, (batch,))
        batches = [(images, labels)] * (steps + 1)
        replica.train_epoch(batches[:1], epoch=0)  # warm-up (cuDNN autotuning, allocator)
        _, seconds = timed(lambda: replica.train_epoch(batches[1:], epoch=1), ranks.device)
        return steps * batch / seconds
    finally:
        distributed.close_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bagnet33_v2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=16, help="per-rank batch of the training step")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--precision", default=None, help="fp32 | bf16 | fp16 (default: fp16 on CUDA, else fp32)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    precision = args.precision or ("fp16" if args.device.startswith("cuda") else "fp32")
    with tempfile.TemporaryDirectory() as folder:
        items = synthetic_jpegs(Path(folder), args.images)
        loading = {str(w): round(loader_rate(items, w, 32, 224), 1) for w in args.workers}
    training = step_rate(args.model, args.device, args.batch, 224, args.steps, precision)
    per_worker = max(rate / int(w) for w, rate in loading.items())
    result = {
        "machine": describe_device(torch.device(args.device)),
        "model": args.model,
        "image_size": 224,
        "precision": precision,
        "batch_per_rank": args.batch,
        "loader_images_per_s_by_workers": loading,
        "train_images_per_s_per_rank": round(training, 2),
        "workers_per_rank_needed": float(f"{training / per_worker:.3g}"),
        "torch": torch.__version__,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
