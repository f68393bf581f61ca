"""Heatmaps stage: exact stride-1 patch logits, the pipeline's Figures 2-4 data, and ``explain`` for any image.

``bagnet_repro.heatmaps.patch_logits`` is the public entry point (see ``patches``).
"""

from .patches import DenseBagNet, exact_patch_size, patch_logits, reference_patch_logits, upsampled_logit_map

__all__ = ["DenseBagNet", "exact_patch_size", "patch_logits", "reference_patch_logits", "upsampled_logit_map"]
