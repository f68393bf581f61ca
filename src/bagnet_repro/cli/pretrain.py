"""Pretraining on ImageNet or Imagenette, one process per rank (launched with torchrun for DDP)."""

from __future__ import annotations

import json
import sys

from .arguments import at_least, settings_values
from .stages import Stage


def pretrain(
    split: str,
    model: str,
    out: str,
    history: str,
    checkpoint: str,
    recipe: str,
    seed: int,
    workers: int,
    device: str,
    threads: int,
    options: str | None = None,
    gpus: int = 0,
) -> None:
    """Pretrain a network on ImageNet/Imagenette (launch with torchrun for DDP).

    Args:
        split: TSV from holdout-split: split (train|val), class, path
        model: a network of bagnet_repro.config.networks, or torchvision:NAME
        out: output: the best weights, loadable as a weights file for fine-tuning
        history: output CSV: loss, accuracy and learning rate per epoch
        checkpoint: per-epoch resume checkpoint (kept on failure)
        recipe: a preset of config/recipes.py
        seed: the run's seed: every random draw of its training
        workers: data-loading worker processes per rank
        device: auto, cpu or cuda[:N]
        threads: CPU threads of one node, shared by its ranks
        options: JSON object of TrainSettings values; batch_size is global
        gpus: GPUs the rule gave this job: unusable CUDA then stops it at once (docs/environments.md)
    """
    values = settings_values(recipe, options, model, seed, device)
    at_least("--workers", workers, 0)
    at_least("--threads", threads, 1)
    at_least("--gpus", gpus, 0)

    import torch

    from ..compute.device import claim_device, device_line
    from ..training import distributed
    from ..training.pretrain import pretrain as pretrain_ranks
    from ..training.pretrain import pretrain_settings

    settings = pretrain_settings(values)
    slot = claim_device(settings.device, gpus)
    ranks = distributed.init_group(settings.device)
    try:
        torch.set_num_threads(max(1, threads // ranks.local_world))  # --threads: the cores of one node
        print(device_line(str(ranks.device), slot), file=sys.stderr, flush=True)
        result = pretrain_ranks(
            split_table=split,
            settings=settings,
            ranks=ranks,
            out_path=out,
            history_path=history,
            checkpoint_path=checkpoint,
            workers=workers,
        )
    finally:
        distributed.close_group()
    if ranks.is_main:
        print(json.dumps(result))


STAGES = (Stage("pretrain", pretrain),)
