"""The precision study: fp32/TF32/bf16/fp16 accuracy and logit drift, and the dead-layer census."""

from __future__ import annotations

import json

from ..config.catalog import ORIGINAL_BAGNETS
from ..errors import UserError
from .arguments import at_least, start_job
from .stages import Stage


def precision(
    manifest: str,
    out_table: str,
    out_census: str,
    out_histogram: str,
    batch_size: int,
    device: str,
    threads: int,
    checkpoint: str | None = None,
    model: str | None = None,
    weights_cache: str | None = None,
    weights_record: str | None = None,
    image_size: int = 224,
    max_images: int | None = None,
    gpus: int = 0,
) -> None:
    """Accuracy and logit drift in fp32, TF32, bf16 and fp16; the dead-layer census.

    Args:
        manifest: the split's manifest.tsv
        out_table: output TSV: accuracy and logit drift per precision mode
        out_census: output TSV: the dead-layer census
        out_histogram: output TSV: a histogram of the model's weights
        batch_size: images per forward pass
        device: auto, cpu or cuda[:N]
        threads: CPU threads for torch
        checkpoint: a trained model (best.pt); give it or --model
        model: an original BagNet, evaluated with its ImageNet weights; give it or --checkpoint
        weights_cache: the weights' cache folder for --model (None: the per-machine cache, docs/models-and-weights.md)
        weights_record: with --model: the fetch-weights record of its weights
        image_size: input size for --model (ImageNet's 224)
        max_images: first N test images only (None: all)
        gpus: GPUs the rule gave this job: unusable CUDA then stops it at once (docs/environments.md)
    """
    if (checkpoint is None) == (model is None):
        raise UserError("give one of --checkpoint (a trained model) and --model (an original BagNet)")
    if model is not None and model not in ORIGINAL_BAGNETS:
        raise UserError(f"--model: {model!r} is not an original BagNet; choose from: {', '.join(ORIGINAL_BAGNETS)}")
    at_least("--image-size", image_size, 1)
    if max_images is not None:
        at_least("--max-images", max_images, 1)
    at_least("--batch-size", batch_size, 1)
    start_job(device, threads, gpus)

    from ..evaluation.precision import run_precision
    from ..models.weights import recorded_file

    weights_file = recorded_file(weights_record, model, "imagenet") if weights_record and model else None
    rows = run_precision(
        manifest_path=manifest,
        table_path=out_table,
        census_path=out_census,
        histogram_path=out_histogram,
        checkpoint=checkpoint,
        imagenet_model=model,
        image_size=image_size,
        weights_cache=weights_cache,
        weights_file=weights_file,
        max_images=max_images,
        batch_size=batch_size,
        device=device,
    )
    print(json.dumps(rows))


STAGES = (Stage("precision", precision),)
