"""Load pytorchcv (imgclsmob) state dicts into our models.

pytorchcv names modules differently (``features.stage1.unit1.body.conv1.conv``) but, for the networks
we take from it, registers the same tensors in the same order with the same shapes. The mapping is
therefore positional, checked tensor by tensor; tests prove the outputs equal pytorchcv's own model.
"""

from __future__ import annotations

import torch

from ..errors import UserError


def convert_state_dict(
    theirs: dict[str, torch.Tensor], ours: dict[str, torch.Tensor], origin: str
) -> dict[str, torch.Tensor]:
    """Rename pytorchcv's tensors to our keys by position; refuse on any count or shape mismatch."""
    if len(theirs) != len(ours):
        raise UserError(f"weights from {origin} hold {len(theirs)} tensors, the model expects {len(ours)}")
    converted = {}
    for (their_key, tensor), (our_key, expected) in zip(theirs.items(), ours.items(), strict=True):
        if tensor.shape != expected.shape:
            raise UserError(
                f"weights from {origin}: {their_key} has shape {tuple(tensor.shape)}, "
                f"but {our_key} needs {tuple(expected.shape)}"
            )
        converted[our_key] = tensor
    return converted
