"""Heatmaps: the images of Figures 2-4 chosen, their stride-1 patch logits, and ``explain`` for your own."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..config.catalog import ORIGINAL_BAGNETS
from .arguments import CACHE_HELP, NON_NEGATIVE, POSITIVE, add_device_options, count, start_compute


def _select_heatmap_images(args: argparse.Namespace) -> None:
    from ..heatmaps.selection import write_selection

    print(
        json.dumps(
            write_selection(predictions_path=args.predictions, count=args.count, wanted=args.images, out_path=args.out)
        )
    )


def _heatmaps(args: argparse.Namespace) -> None:
    from ..heatmaps.selection import compute_heatmaps

    start_compute(args)
    print(
        json.dumps(
            compute_heatmaps(
                checkpoints=args.checkpoints,
                selection_path=args.selection,
                out_path=args.out,
                scramble_grid=args.scramble_grid,
                scramble_seed=args.scramble_seed,
                device=args.device,
                memory_mb=args.memory_mb,
            )
        )
    )


def _explain(args: argparse.Namespace) -> None:
    # A first line at once: importing torch and reading a large image take seconds before the first bar.
    print(f"explain: {len(args.images)} image(s); loading torch, the network and the images", flush=True)
    from ..heatmaps.explain import explain, run_weights

    model, weights = args.model, args.weights
    if weights is None:
        found = run_weights(args.run, model)
        if found:
            model, weights = found
            print(f"explaining with the run's {model}: {weights}")
        else:
            model, weights = model or "bagnet33", "imagenet"
            print(f"no trained BagNet under {args.run}/results/models: explaining with {model}'s ImageNet weights")
    start_compute(args, stream=sys.stdout)
    records = explain(
        images=args.images,
        model_name=model or "bagnet33",
        weights=weights,
        out_dir=args.out,
        classes=args.classes,
        image_size=args.image_size,
        method=args.method,
        device=args.device,
        memory_mb=args.memory_mb,
        cache=args.weights_cache,
    )
    for record in records:
        print(json.dumps(record))


def register(subparsers) -> None:
    p = subparsers.add_parser("select-heatmap-images", help="choose the test images of Figures 2-4")
    p.add_argument("--predictions", required=True, help="predictions TSV of the model that picks the images")
    p.add_argument("--count", type=POSITIVE, required=True, help="images to pick when --images is not given")
    p.add_argument("--images", nargs="*", default=[], help="test image file names to draw")
    p.add_argument("--out", required=True, help="TSV of the chosen images (path, label, sha256)")
    p.set_defaults(func=_select_heatmap_images)

    p = subparsers.add_parser("heatmaps", help="stride-1 patch heatmaps of chosen test images (Figures 2-4)")
    p.add_argument("--checkpoints", nargs="+", required=True, help="best.pt of each original BagNet")
    p.add_argument("--selection", required=True, help="the chosen images (select-heatmap-images)")
    p.add_argument("--out", required=True, help=".npz with images, heatmaps and logits")
    p.add_argument(
        "--scramble-grid",
        type=POSITIVE,
        required=True,
        help="the scrambled copy of the first image (Figure 4): g x g pieces, shuffled",
    )
    p.add_argument("--scramble-seed", type=NON_NEGATIVE, required=True, help="seed of the pieces' order")
    p.add_argument(
        "--memory-mb",
        type=float,
        required=True,
        help="MB the activations of one dense band may take (the images, heatmaps and networks come on top)",
    )
    add_device_options(p)
    p.set_defaults(func=_heatmaps)

    p = subparsers.add_parser("explain", help="heatmaps of your own images (any size): overlay figure and logit arrays")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...), each at its own size")
    p.add_argument(
        "--model",
        default=None,
        help=f"{', '.join(ORIGINAL_BAGNETS)} (exact heatmaps), or *_v2 with --method upsampled; default: the run's "
        "first trained BagNet (--run), else bagnet33",
    )
    p.add_argument(
        "--weights",
        default=None,
        help="imagenet, a state-dict path/URL (e.g. BagNets-v2's), or a best.pt of this pipeline; default: the "
        "run's best.pt of --model (first seed), else imagenet",
    )
    p.add_argument(
        "--run",
        default=".",
        help="the working folder of a finished run, whose trained BagNet (classes, training size) explain uses "
        "when --weights is not given (default: the current folder)",
    )
    p.add_argument("--classes", type=POSITIVE, default=3, help="the K most likely classes to draw")
    p.add_argument("--out", default="explained", help="folder for <image>.pdf/.png/.npz")
    p.add_argument("--image-size", type=count(9), default=None, help="resize to N x N first (default: as is)")
    p.add_argument("--method", default="fast", help="fast (exact, default), reference (patch cropping) or upsampled")
    p.add_argument(
        "--memory-mb",
        type=float,
        default=2048,
        help="MB of memory explaining one image may take: its copies, heatmaps, the network's working copies and "
        "the passes' activations; a smaller budget than an image needs is refused before any work",
    )
    p.add_argument("--weights-cache", default=None, help=CACHE_HELP)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--threads", type=POSITIVE, default=os.cpu_count() or 1, help="CPU threads for torch")
    p.set_defaults(func=_explain)
