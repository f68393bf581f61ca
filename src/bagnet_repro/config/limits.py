"""The largest image any stage accepts, and the one line that refuses a bigger one (read by the schema check,
the cross-key rules and the training settings)."""

from __future__ import annotations

# The largest image side any stage accepts: the schema's maximum of every key below (a test holds them equal),
# and TrainSettings' bound for image_size given through --options.
MAX_IMAGE_SIZE = 4096
IMAGE_SIZE_KEYS = (
    "train.image_size",
    "receptive_fields.image_size",
    "receptive_fields.measure_size",
    "data.demo.width",
    "data.demo.height",
)
# Image sizes inside free option maps (TrainSettings values), which the schema does not type.
OPTION_IMAGE_SIZE_KEYS = (("feature_amounts", "options", "image_size"), ("pretrain", "options", "image_size"))


def image_size_problem(key: str, size: int) -> str:
    """Why ``size`` is refused at ``key``: the bound and the memory one such image takes before any layer."""
    gib = 3 * size * size * 4 / 2**30
    return (
        f"config error at '{key}': {size} is above the maximum image size {MAX_IMAGE_SIZE} (one {size} x {size} "
        f"image is {gib:.3g} GiB as float32 input alone; a batch and its activations take many times that)"
    )
