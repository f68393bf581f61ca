"""Time the stride-1 heatmap methods on one image, in one run: reference (patch cropping) vs fast (dense).

    python benchmarks/heatmap_speed.py --model bagnet33 --size 224 --threads 2 \\
        --out benchmarks/results/heatmap_speed_cpu_2threads.json

Writes times, the speed-up, the time in plain forward passes and the max abs difference between the two
methods (all classes), and the fast method's images per second. ``--device cuda`` times on the GPU
(synchronised); ``--classes 15`` is the 15-scene head.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from bagnet_repro.compute.device import describe_device, timed
from bagnet_repro.heatmaps import patch_logits
from bagnet_repro.models import get_bagnet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bagnet33", choices=["bagnet9", "bagnet17", "bagnet33"])
    parser.add_argument("--classes", type=int, default=1000, help="1000 = the ImageNet head")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=1000, help="patches per batch (reference method)")
    parser.add_argument("--skip-reference", action="store_true", help="time only the fast method")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = get_bagnet(args.model, num_classes=args.classes).eval().to(device)
    image = torch.randn(1, 3, args.size, args.size, device=device)
    with torch.no_grad():
        model(image)  # warm-up
        _, forward = timed(lambda: model(image), device)
    fast, fast_s = timed(lambda: patch_logits(model, image, "fast", progress=False), device)
    result = {
        "machine": describe_device(device),
        "device": str(device),
        "torch": torch.__version__,
        "model": args.model,
        "classes": args.classes,
        "image_size": args.size,
        "threads": torch.get_num_threads(),
        "forward_s": forward,
        "fast_s": fast_s,
        "fast_in_forward_passes": fast_s / forward,
        "fast_images_per_s": 1 / fast_s,
    }
    if not args.skip_reference:
        reference, reference_s = timed(
            lambda: patch_logits(model, image, "reference", args.batch_size, progress=False), device
        )
        difference = (fast - reference).abs().max().item()
        result.update(
            reference_s=reference_s,
            speedup=reference_s / fast_s,
            max_abs_diff=difference,
            max_abs_logit=reference.abs().max().item(),
            reference_patches=args.size * args.size,
            reference_batch_size=args.batch_size,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    main()
