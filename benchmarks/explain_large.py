"""``explain`` on a photo-sized image: the budget it names up front, its peak memory against that budget, its time.

    python benchmarks/explain_large.py --width 4000 --height 3000 --model bagnet33 --method upsampled \\
        --memory-mb 1024 --threads 2 --out benchmarks/results/explain_4000x3000_cpu_2threads.json
    python benchmarks/explain_large.py --width 1200 --height 900 --model bagnet33 --method upsampled \\
        --memory-mb 260 320 450 --threads 2 --out benchmarks/results/explain_small_budget_cpu_2threads.json

The image is a synthetic texture (JPEG) and the network a BagNet with random weights and ImageNet's 1000 classes
(the arithmetic and memory of a trained one are the same). The network is loaded first; the peak is the kernel's
high-water mark of the process's resident memory (VmHWM, reset through /proc/self/clear_refs after loading), above
the resident memory just before ``explain`` starts, so it counts everything ``explain`` holds for the image:
copies, activations, heatmaps, the figure and the arrays written. Several budgets are measured one after the other,
each in a fresh process, into one file of runs (``needed_mb``: what ``explain`` named up front)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bagnet_repro.heatmaps.budget import image_budget
from bagnet_repro.heatmaps.explain import explain_images, load_explained_model
from bagnet_repro.models import get_bagnet


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _texture(width: int, height: int, path: Path) -> None:
    """A photo-like image: smooth colour fields with fine noise, as JPEG (what a camera writes)."""
    rng = np.random.default_rng(0)
    coarse = Image.fromarray(rng.integers(0, 256, (height // 64 + 1, width // 64 + 1, 3), dtype=np.uint8))
    smooth = np.asarray(coarse.resize((width, height), Image.BICUBIC), dtype=np.int16)
    noisy = np.clip(smooth + rng.integers(-20, 21, smooth.shape, dtype=np.int16), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(path, quality=90)


def measure(args: argparse.Namespace, memory_mb: float) -> dict:
    """One run of ``explain`` within ``memory_mb``: the budget it named, its peak above the start, its time."""
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="explain-large-") as scratch:
        scratch = Path(scratch)
        photo = scratch / f"photo_{args.width}x{args.height}.jpg"
        _texture(args.width, args.height, photo)
        torch.manual_seed(0)
        torch.save(get_bagnet(args.model, num_classes=1000).state_dict(), scratch / "weights.pt")
        explained = load_explained_model(args.model, str(scratch / "weights.pt"), torch.device("cpu"))
        needed = image_budget(explained.model, args.height, args.width, args.method, args.classes).needed_mb
        Path("/proc/self/clear_refs").write_text("5")  # the high-water mark starts again from here
        before_kb = _status_kb("VmRSS")
        said = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(said):
            explain_images(
                explained, [str(photo)], str(scratch / "out"), args.classes, None, args.method, memory_mb=memory_mb
            )
        seconds = time.perf_counter() - start
        peak_kb = _status_kb("VmHWM")
    return {
        "memory_mb": memory_mb,
        "needed_mb": needed,
        "budget_named_up_front": said.getvalue().splitlines()[0],
        "peak_mb_above_start": round((peak_kb - before_kb) / 1024, 1),
        "within_budget": (peak_kb - before_kb) / 1024 <= memory_mb,
        "resident_mb_at_start": round(before_kb / 1024, 1),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--model", default="bagnet33")
    parser.add_argument("--method", default="upsampled")
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--memory-mb", type=float, nargs="+", default=[1024])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    runs = []
    for memory_mb in args.memory_mb:  # a fresh process each: no budget inherits another's allocations
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            runs.append(pool.apply(measure, (args, memory_mb)))
        print(json.dumps(runs[-1]), flush=True)
    result = {
        "image": f"{args.width} x {args.height} px (JPEG, synthetic texture)",
        "model": args.model,
        "method": args.method,
        "classes_drawn": args.classes,
        **(runs[0] if len(runs) == 1 else {"runs": runs}),
        "threads": args.threads,
        "device": "cpu",
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
