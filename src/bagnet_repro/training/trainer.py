"""One epoch of training: batches in the order of (seed, epoch), their augmentation, and the optimizer steps.

A batch that does not fit the device is split into micro-batches with accumulated gradients, and the split is kept.
"""

from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from ..compute.device import to_device
from ..compute.memory import is_out_of_memory
from ..config.train_settings import TrainSettings, check_choice
from ..data.augmentations import get_augmentations
from ..data.batch_augment import crop_flip, crop_flip_matrices, pad_crop_flip, step_generator
from ..data.loading import IMAGENET_MEAN, IMAGENET_STD, normalize
from ..errors import UserError
from ..evaluation.inference import autocast_dtype
from .tally import EpochTally


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1000 + epoch)
    return torch.randperm(n, generator=generator)


def batch_augmentation(settings: TrainSettings, num_classes: int):
    """(per-image uint8 transform on the host or None, per-batch CutMix/MixUp or None) for the recipe.

    ``crop_flip`` and ``pad_crop_flip`` have neither: they run on the device, batched (``data/batch_augment.py``)."""
    from torchvision.transforms import v2

    per_image = None
    if settings.augment == "modern":
        crop_and_flip = get_augmentations(settings.image_size, normalization=None).train
        per_image = v2.Compose([crop_and_flip, v2.TrivialAugmentWide()])
    else:
        check_choice(settings, "augment")
    mix = None
    if settings.mix == "cutmix_mixup":
        mix = v2.RandomChoice(
            [v2.CutMix(alpha=1.0, num_classes=num_classes), v2.MixUp(alpha=0.2, num_classes=num_classes)]
        )
    else:
        check_choice(settings, "mix")
    return per_image, mix


def accumulate_gradients(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn,
    chunks: int,
    autocast_dtype: torch.dtype | None = None,
    scaler=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward and backward ``inputs`` in ``chunks`` equal micro-batches, each loss weighted by its share.

    The summed gradients equal those of one full batch (to rounding) for models whose layers treat
    samples independently; batch norm in training mode sees micro-batch statistics instead.
    Returns the batch's mean loss (a detached 0-d tensor on the device: reading it is the caller's choice,
    since it waits for the device) and its logits.
    """
    total, logits = None, []
    size = len(inputs)
    for part_inputs, part_targets in zip(inputs.chunk(chunks), targets.chunk(chunks), strict=True):
        with torch.autocast(inputs.device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            part_logits = model(part_inputs)
            loss = loss_fn(part_logits.float(), part_targets) * (len(part_inputs) / size)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        total = loss.detach() if total is None else total + loss.detach()
        logits.append(part_logits.detach().float())
    assert total is not None  # at least one chunk
    return total, torch.cat(logits)


def _next_divisor(batch: int, current: int) -> int | None:
    return next((d for d in range(current + 1, batch + 1) if batch % d == 0), None)


class Trainer:
    """One epoch at a time; keeps the micro-batch count that fits the GPU across steps.

    Nothing in a step waits for the device: the batch is indexed from images staged once (``staging.py``),
    augmented there, and the loss and accuracy are counted there (``tally.py``), read once per epoch.
    """

    def __init__(
        self,
        model,
        optimizer,
        settings: TrainSettings,
        device: torch.device,
        num_classes: int,
        step_scheduler=None,
        statistics: tuple = (IMAGENET_MEAN, IMAGENET_STD),
    ) -> None:
        self.model, self.optimizer, self.settings, self.device = model, optimizer, settings, device
        self.statistics = statistics  # per-channel (mean, std) of the inputs
        self.step_scheduler = step_scheduler  # stepped after every optimizer step (sgdr)
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
        self.autocast_dtype = autocast_dtype(settings.precision, device)
        use_scaler = settings.precision == "fp16" and device.type == "cuda"
        self.scaler = torch.amp.GradScaler(device.type) if use_scaler else None
        self.per_image, self.mix = batch_augmentation(settings, num_classes)
        self.erase = None
        if settings.augment == "modern":  # on the normalized tensor, as torchvision's recipe does
            from torchvision.transforms import v2

            self.erase = v2.RandomErasing(p=0.1)
        self.chunks = 1

    @property
    def augments_on_host(self) -> bool:
        """Whether a batch is augmented image by image on the host (so its images must stay there)."""
        return self.per_image is not None

    def _inputs(self, images: torch.Tensor, labels: torch.Tensor, epoch: int, step: int):
        if self.per_image is not None:
            images = torch.stack([self.per_image(image) for image in images])
        images, targets = to_device(images, self.device), to_device(labels, self.device)
        if self.settings.augment == "pad_crop_flip":  # on the stored pixels: the padding is black
            images = pad_crop_flip(images, step_generator(self.settings.seed, epoch, step))
        inputs = normalize(images, self.statistics)
        if self.settings.augment == "crop_flip":
            matrices = crop_flip_matrices(len(inputs), step_generator(self.settings.seed, epoch, step))
            inputs = crop_flip(inputs, matrices)
        if self.erase is not None:
            inputs = torch.stack([self.erase(image) for image in inputs])
        if self.mix is not None:
            inputs, targets = self.mix(inputs, targets)
        if self.settings.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return inputs, targets

    def step(self, inputs, targets, epoch: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        while True:
            self.optimizer.zero_grad(set_to_none=True)
            try:
                loss, logits = accumulate_gradients(
                    self.model, inputs, targets, self.loss_fn, self.chunks, self.autocast_dtype, self.scaler
                )
                break
            except RuntimeError as exc:  # torch.OutOfMemoryError on CUDA, the allocator's RuntimeError on the CPU
                if not is_out_of_memory(exc):
                    raise
                self.optimizer.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                chunks = _next_divisor(len(inputs), self.chunks)
                if chunks is None:
                    raise UserError(
                        f"training {self.settings.model}: one image does not fit on {self.device} "
                        f"(epoch {epoch}, step {step}); lower train.image_size"
                    ) from None
                print(
                    f"out of memory at epoch {epoch}, step {step}: batch {len(inputs)} is now "
                    f"{chunks} micro-batches of {len(inputs) // chunks} with accumulated gradients",
                    flush=True,
                )
                self.chunks = chunks
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.step_scheduler is not None:
            self.step_scheduler.step()
        return loss, logits

    def epoch(self, images: torch.Tensor, labels: torch.Tensor, epoch: int) -> tuple[float, float]:
        """One pass over ``images`` (uint8, staged by ``stage_images``) in the order of (seed, epoch).

        Returns the mean train loss and accuracy. A non-finite loss stops the run at the epoch's end (the
        first time the host looks), naming the step it happened at."""
        self.model.train()
        settings = self.settings
        order = epoch_order(len(labels), settings.seed, epoch).to(images.device)
        tally = EpochTally(self.device)
        batches = range(0, len(order), settings.batch_size)
        progress = tqdm(batches, desc=f"{settings.model} epoch {epoch}", unit="batch", mininterval=1.0)
        for step, start in enumerate(progress, start=1):
            index = order[start : start + settings.batch_size]
            inputs, targets = self._inputs(images[index], labels[index], epoch, step)
            loss, logits = self.step(inputs, targets, epoch, step)
            tally.add(step, loss, logits, targets)
        bad_step = tally.bad_step()
        if bad_step:
            raise UserError(
                f"training {settings.model}: non-finite loss at epoch {epoch}, step {bad_step}; "
                "lower train.lr or check the data"
            )
        return tally.means()
