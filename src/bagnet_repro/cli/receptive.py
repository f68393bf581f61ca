"""Receptive fields: the per-layer table of Figure 1 and a per-model summary."""

from __future__ import annotations

from ..errors import UserError
from .stages import Stage


def receptive_fields(models: list[str], image_size: int, measure_size: int, layers: str, summary: str) -> None:
    """Per-layer receptive fields (Figure 1) and a per-model summary.

    Args:
        models: networks of bagnet_repro.config.networks, or torchvision:<name>
        image_size: input size (px) of the theoretical fields
        measure_size: input size (px) of the gradient measurement, at least 40
        layers: output TSV: the receptive field of every layer
        summary: output TSV: each model's field, measured and theoretical
    """
    from ..receptive.tables import write_receptive_fields

    if image_size < 1 or measure_size < 40:
        raise UserError(f"--image-size must be >= 1 and --measure-size >= 40, got {image_size} and {measure_size}")
    write_receptive_fields(
        models=models, image_size=image_size, measure_size=measure_size, layers_path=layers, summary_path=summary
    )


STAGES = (Stage("receptive-fields", receptive_fields),)
