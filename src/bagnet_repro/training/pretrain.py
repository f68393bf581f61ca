"""Pretraining a network on ImageNet or Imagenette with DistributedDataParallel, as BagNets-v2 did on 8 GPUs.

Launched by torchrun (one process per GPU, or CPU ranks with gloo). Every rank holds a replica; gradients are
averaged by DDP and batch-norm statistics are synchronised (SyncBatchNorm on GPUs, averaged after each epoch
on CPUs), and the replicas' digests are compared after every epoch, so a drift stops the run. Validation sums
are all-reduced, so every rank sees the same loss and takes the same early-stopping decision (rank 0's is
broadcast all the same). Rank 0 writes an atomic checkpoint after every epoch (deleted once the weights are
written) and a rerun continues from it; all randomness of an epoch derives from (seed, epoch, rank), so a
resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import asdict, replace
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Subset
from torch.utils.data.distributed import DistributedSampler
from tqdm.auto import tqdm

from ..compute.accounting import JobRecord
from ..compute.numerics import numerics
from ..compute.tracking import job_record
from ..config.train_settings import PER_STEP_SCHEDULERS, TrainSettings, check_choices, settings_key
from ..data.loading import normalize
from ..data.streaming import StreamedImages, eval_transform, from_worker, read_split_table, train_transform
from ..errors import UserError
from ..evaluation.inference import autocast_dtype
from ..files.atomic import check_writable, file_digest, write_table_atomic
from ..files.torchfile import save_torch_atomic
from ..models import build_model
from . import distributed
from .checkpoints import discard_checkpoint
from .epochs import EpochRules, ResumePoint, run_epochs
from .optimization import build_optimizer, build_scheduler, set_tf32
from .state import TrainingState
from .tally import EpochTally

HISTORY_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "val_top5",
    "is_best",
    "lr",
    "code_sha256",
    "seconds",
    "rank_digests",
)


def _check_settings(settings: TrainSettings, world: int) -> None:
    if settings.batch_size % world:
        raise UserError(
            f"pretrain batch_size {settings.batch_size} (the global batch) is not divisible by the {world} processes"
        )
    if settings.scheduler in PER_STEP_SCHEDULERS:
        raise UserError(f"pretraining steps its schedule per epoch; scheduler {settings.scheduler!r} is per step")
    if settings.augment != "none" or settings.mix != "none":
        raise UserError("pretraining augments with random-resized crops and flips; set augment and mix to none")
    check_choices(settings)


def _epoch_seed(settings: TrainSettings, epoch: int, ranks: distributed.Ranks) -> int:
    return (settings.seed * 100_003 + epoch) * 1_009 + ranks.rank


def _train_loader(
    data: StreamedImages, settings: TrainSettings, epoch: int, ranks: distributed.Ranks, workers: int
) -> DataLoader:
    """This rank's shard of the epoch; its order and augmentation depend only on (seed, epoch, rank)."""
    sampler: DistributedSampler = DistributedSampler(
        data, num_replicas=ranks.world, rank=ranks.rank, shuffle=True, seed=settings.seed
    )
    sampler.set_epoch(epoch)
    generator = torch.Generator().manual_seed(_epoch_seed(settings, epoch, ranks))
    return DataLoader(
        data,
        batch_size=settings.batch_size // ranks.world,
        sampler=sampler,
        num_workers=workers,
        generator=generator,
        pin_memory=ranks.device.type == "cuda",
    )


def _val_loader(data: StreamedImages, settings: TrainSettings, ranks: distributed.Ranks, workers: int) -> DataLoader:
    """Every ``world``-th image from ``rank``: the shards cover the hold-out exactly once."""
    shard = Subset(data, range(ranks.rank, len(data), ranks.world))
    return DataLoader(
        shard,
        batch_size=max(1, settings.batch_size // ranks.world),
        num_workers=workers,
        pin_memory=ranks.device.type == "cuda",
    )


class Replica:
    """The DDP-wrapped model with its optimizer, schedule and loss scaler on one rank."""

    def __init__(self, settings: TrainSettings, num_classes: int, ranks: distributed.Ranks) -> None:
        torch.manual_seed(settings.seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
        model = build_model(settings.model, num_classes, weights=None, head="linear")
        if ranks.device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model.to(ranks.device)
        if settings.channels_last:
            model.to(memory_format=torch.channels_last)
        self.module = model
        self.ddp = DistributedDataParallel(model, device_ids=[ranks.device] if ranks.device.type == "cuda" else None)
        self.optimizer = build_optimizer(model, settings)
        self.scheduler = build_scheduler(self.optimizer, settings)
        use_scaler = settings.precision == "fp16" and ranks.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda") if use_scaler else None
        self.autocast_dtype = autocast_dtype(settings.precision, ranks.device)
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
        self.settings, self.ranks = settings, ranks

    def _inputs(self, images: torch.Tensor) -> torch.Tensor:
        """The loader's pinned uint8 batch, copied asynchronously, then normalized on the device."""
        inputs = normalize(images.to(self.ranks.device, non_blocking=True))
        if self.settings.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return inputs

    def train_epoch(self, loader: DataLoader, epoch: int) -> tuple[float, float]:
        self.ddp.train()
        device = self.ranks.device
        tally = EpochTally(device)  # no per-step synchronisation: read once, after the epoch
        progress = tqdm(
            loader,
            desc=f"{self.settings.model} epoch {epoch}",
            unit="batch",
            mininterval=2.0,
            disable=not self.ranks.is_main,
        )
        for step, (images, labels) in enumerate(progress, start=1):
            inputs, labels = self._inputs(images), labels.to(device, non_blocking=True)
            self.optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None):
                logits = self.ddp(inputs)
                loss = self.loss_fn(logits.float(), labels)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                loss.backward()
                self.optimizer.step()
            tally.add(step, loss, logits, labels)
        bad_step = tally.bad_step()
        if bad_step:
            raise UserError(
                f"pretraining {self.settings.model}: non-finite loss at epoch {epoch}, step {bad_step} "
                f"on rank {self.ranks.rank}; lower the learning rate or check the data"
            )
        loss_sum, correct, count = tally.totals()
        self.scheduler.step()
        distributed.average_batchnorm_statistics(self.module, self.ranks.world)
        summed_loss, summed_correct, summed_count = distributed.sum_over_ranks([loss_sum, correct, count], device)
        return summed_loss / summed_count, summed_correct / summed_count

    @torch.inference_mode()
    def validate(self, loader: DataLoader) -> tuple[float, float, float]:
        """Loss, top-1 and top-5 accuracy over the whole hold-out (all ranks' shards); the sums stay on the
        device until the end."""
        self.module.eval()
        device = self.ranks.device
        loss_fn = nn.CrossEntropyLoss(reduction="sum")
        sums = torch.zeros(3, dtype=torch.float64, device=device)  # loss, top-1 and top-5 correct
        count = 0
        for images, labels in loader:
            labels = labels.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None):
                logits = self.module(self._inputs(images)).float()
            top5 = logits.topk(min(5, logits.shape[1]), dim=1).indices
            sums += torch.stack(
                [
                    loss_fn(logits, labels).double(),
                    (logits.argmax(1) == labels).sum().double(),
                    (top5 == labels[:, None]).any(1).sum().double(),
                ]
            )
            count += len(labels)
        loss_sum, correct, correct5 = sums.tolist()
        total = distributed.sum_over_ranks([loss_sum, correct, correct5, count], device)
        return total[0] / total[3], total[1] / total[3], total[2] / total[3]

    def run_epoch(
        self, epoch: int, train_data: StreamedImages, val_data: StreamedImages, workers: int
    ) -> tuple[dict, dict]:
        """Train and validate ``epoch``: its scores, and the replicas' digests (equal, else the run stops)."""
        settings, ranks = self.settings, self.ranks
        torch.manual_seed(_epoch_seed(settings, epoch, ranks))
        try:
            train_loss, train_acc = self.train_epoch(_train_loader(train_data, settings, epoch, ranks, workers), epoch)
            val_loss, val_acc, val_top5 = self.validate(_val_loader(val_data, settings, ranks, workers))
        except UserError as exc:  # e.g. an unreadable image, raised in a loader worker
            raise from_worker(exc) from None
        if not math.isfinite(val_loss):  # all-reduced, so every rank stops here together
            raise UserError(
                f"pretraining {settings.model}: the validation loss is not finite after epoch {epoch} "
                "(the weights diverged); lower the learning rate"
            )
        digests = distributed.digests_of_all_ranks(self.module.state_dict())
        if len(set(digests)) != 1:
            raise UserError(
                f"pretraining {settings.model}: the replicas differ after epoch {epoch} "
                f"(state digests {', '.join(d[:12] for d in digests)})"
            )
        scores = {"train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc}
        return {**scores, "val_top5": val_top5}, {"rank_digests": " ".join(digests)}


def _resume_key(settings: TrainSettings, ranks: distributed.Ranks) -> str:
    return f"{settings_key(settings)} world={ranks.world}"


def pretrain(
    split_table: str,
    settings: TrainSettings,
    ranks: distributed.Ranks,
    out_path: str,
    history_path: str,
    checkpoint_path: str,
    workers: int = 4,
) -> dict:
    """Pretrain ``settings.model`` on the ``train`` rows of ``split_table``, selecting on its ``val`` rows.

    ``ranks`` comes from ``distributed.init_group``. ``settings.batch_size`` is the global batch,
    split evenly over the ranks. Rank 0 writes ``out_path`` (the best weights at the dataset's class count,
    loadable as a weights file for fine-tuning) and the per-epoch history.
    """
    _check_settings(settings, ranks.world)
    print(ranks.describe(), flush=True)  # every process: a lost node's ranks are named in the log
    if ranks.is_main:
        check_writable(checkpoint_path, out_path, history_path)
    # Rank 0 keeps the compute record beside the weights: every rank's GPU's energy, its own time and memory.
    job = (
        job_record(out_path, "pretrain", settings.model, ranks.device, ranks.world, settings.model, settings.seed)
        if ranks.is_main
        else None
    )
    with job or nullcontext():
        return _pretrain(split_table, settings, ranks, out_path, history_path, checkpoint_path, workers, job)


def _pretrain(
    split_table: str,
    settings: TrainSettings,
    ranks: distributed.Ranks,
    out_path: str,
    history_path: str,
    checkpoint_path: str,
    workers: int,
    job: JobRecord | None,
) -> dict:
    splits, classes = read_split_table(split_table)
    train_data = StreamedImages(splits["train"], train_transform(settings.image_size))
    val_data = StreamedImages(splits["val"], eval_transform(settings.image_size))
    set_tf32(ranks.device, settings.tf32)
    replica = Replica(settings, len(classes), ranks)
    if job is not None:
        job.set_numerics(
            numerics(ranks.device, settings.precision, replica.autocast_dtype, False, settings.channels_last)
        )

    state = TrainingState(replica.module, replica.optimizer, replica.scheduler, replica.scaler)

    rules = EpochRules(
        lambda epoch: replica.run_epoch(epoch, train_data, val_data, workers),
        main=ranks.is_main,
        agree=lambda flag: distributed.from_main(flag, ranks.device),
        barrier=distributed.dist.barrier,
        where=f" on {ranks.world} ranks",
        line_note=lambda extra: f" (replicas equal: {extra['rank_digests'][:12]})",
        early_stop_scope=" on all ranks",
    )
    checkpoint = Path(checkpoint_path)
    resume = ResumePoint(checkpoint, _resume_key(settings, ranks), split_table, file_digest(split_table), False)
    run_epochs(state, settings, resume, rules, job)
    best = state.best
    if best.weights is None:
        raise UserError(f"pretraining {settings.model}: pretrain epochs must be at least 1")
    if ranks.is_main:
        write_table_atomic(history_path, HISTORY_COLUMNS, state.history, delimiter=",")
        save_torch_atomic(
            {
                "model": settings.model,
                "classes": classes,
                "image_size": settings.image_size,
                "epoch": best.epoch,
                "val_acc": best.val_acc,
                "val_loss": best.val_loss,
                "val_top5": best.val_top5,
                "processes": ranks.world,
                "settings": asdict(settings),
                "state_dict": best.weights,
            },
            Path(out_path),
        )
        discard_checkpoint(checkpoint)
    distributed.dist.barrier()
    return {
        "best_epoch": best.epoch,
        "best_val_acc": best.val_acc,
        "best_val_top5": best.val_top5,
        "best_val_loss": best.val_loss,
        "epochs_run": state.epoch,
        "processes": ranks.world,
    }


def pretrain_settings(values: dict) -> TrainSettings:
    """TrainSettings for pretraining: the network's own linear classifier, no fine-tuning weights."""
    return replace(TrainSettings(**values), head="linear", weights=None)
