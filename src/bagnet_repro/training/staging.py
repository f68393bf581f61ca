"""Where a job's decoded uint8 images live while it trains: on the GPU when they fit, else on the host.

A split is decoded once per job (``load_split``). On CUDA it is then copied to the device once, so a
training step only indexes it there (no host work, no copy). When it would take more than a quarter of the
free GPU memory, or a host-side augmentation needs it, it stays on the host and each batch goes over in
pinned memory, asynchronously. On the CPU nothing moves.
"""

from __future__ import annotations

import torch

# Share of the free GPU memory a split's uint8 images may take (the rest is for the model and its batch).
DEVICE_CACHE_SHARE = 0.25


def stage_images(images: torch.Tensor, device: torch.device, on_host: bool = False) -> torch.Tensor:
    """``images`` where the training loop reads them from on ``device`` (see the module's docstring)."""
    if device.type == "cuda" and not on_host:
        free, _ = torch.cuda.mem_get_info(device)
        if images.numel() * images.element_size() < DEVICE_CACHE_SHARE * free:
            return images.to(device)
    return images
