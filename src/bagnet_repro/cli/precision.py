"""The precision study: fp32/TF32/bf16/fp16 accuracy and logit drift, and the dead-layer census."""

from __future__ import annotations

import argparse
import json

from ..config.catalog import ORIGINAL_BAGNETS
from .arguments import POSITIVE, add_device_options, start_compute


def _precision(args: argparse.Namespace) -> None:
    from ..evaluation.precision import run_precision
    from ..models.weights import recorded_file

    start_compute(args)
    record = args.weights_record
    weights_file = recorded_file(record, args.model, "imagenet") if record and args.model else None
    rows = run_precision(
        manifest_path=args.manifest,
        table_path=args.out_table,
        census_path=args.out_census,
        histogram_path=args.out_histogram,
        checkpoint=args.checkpoint,
        imagenet_model=args.model,
        image_size=args.image_size,
        weights_cache=args.weights_cache,
        weights_file=weights_file,
        max_images=args.max_images,
        batch_size=args.batch_size,
        device=args.device,
    )
    print(json.dumps(rows))


def register(subparsers) -> None:
    p = subparsers.add_parser("precision", help="fp32/tf32/bf16/fp16 accuracy and logit drift; dead-layer census")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a trained model (best.pt)")
    source.add_argument(
        "--model", choices=tuple(ORIGINAL_BAGNETS), help="an original BagNet, evaluated with its ImageNet weights"
    )
    p.add_argument("--weights-cache", default=None)
    p.add_argument("--weights-record", default=None, help="with --model: the fetch-weights record of its weights")
    p.add_argument("--image-size", type=POSITIVE, default=224, help="input size for --model (ImageNet's 224)")
    p.add_argument("--manifest", required=True)
    p.add_argument("--out-table", required=True)
    p.add_argument("--out-census", required=True)
    p.add_argument("--out-histogram", required=True)
    p.add_argument("--max-images", type=POSITIVE, default=None, help="first N test images only (default all)")
    p.add_argument("--batch-size", type=POSITIVE, required=True)
    add_device_options(p)
    p.set_defaults(func=_precision)
