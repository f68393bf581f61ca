"""An epoch's loss, accuracy and first non-finite step, counted on the device and read once per epoch.

Reading a loss with ``.item()`` after every step makes the host wait for the GPU at every step; here the
sums stay on the device and the one synchronisation is at the end of the epoch. A non-finite loss is
still reported with the step it happened at.
"""

from __future__ import annotations

import torch


class EpochTally:
    def __init__(self, device: torch.device) -> None:
        dtype = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
        self.loss_sum = torch.zeros((), dtype=dtype, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.first_bad_step = torch.zeros((), dtype=torch.int64, device=device)
        self.images = 0

    def add(self, step: int, loss: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> None:
        """Count one step: its mean ``loss``, its ``logits`` against (hard or soft) ``targets``."""
        loss = loss.detach()
        hard = targets.argmax(1) if targets.dim() == 2 else targets
        self.loss_sum += loss.to(self.loss_sum.dtype) * len(hard)
        self.correct += (logits.argmax(1) == hard).sum()
        bad = ~torch.isfinite(loss) & (self.first_bad_step == 0)
        self.first_bad_step = torch.where(bad, step, self.first_bad_step)
        self.images += len(hard)

    def bad_step(self) -> int:
        """The first step whose loss was not finite, or 0 (synchronises)."""
        return int(self.first_bad_step)

    def totals(self) -> tuple[float, int, int]:
        """Summed loss, correct predictions and images counted (synchronises)."""
        return float(self.loss_sum), int(self.correct), self.images

    def means(self) -> tuple[float, float]:
        """Mean loss and accuracy over the images counted (synchronises)."""
        loss_sum, correct, images = self.totals()
        return loss_sum / images, correct / images
