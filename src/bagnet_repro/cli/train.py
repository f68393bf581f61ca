"""The training stage: pretrained weights fetched once into the cache, then fine-tuning per model and seed."""

from __future__ import annotations

import json

from .arguments import settings_values, start_job, weights_value
from .stages import Stage


def fetch_weights(
    model: str,
    weights: str,
    out: str,
    weights_sha256: str | None = None,
    weights_cache: str | None = None,
) -> None:
    """Download and verify a model's pretrained weights into the cache.

    Args:
        model: a network of bagnet_repro.config.networks, or torchvision:NAME
        weights: none, a source the model's record offers (config/networks.py), or a path/URL
        out: output JSON: the record of the file and its sha256
        weights_sha256: expected sha256 (or prefix) of a path/URL
        weights_cache: the weights' cache folder (None: the per-machine cache, docs/models-and-weights.md)
    """
    from ..files.atomic import sha256_file, write_text_atomic
    from ..models.registry import fetch_weights_file

    path = fetch_weights_file(name=model, weights=weights_value(weights, weights_sha256), cache=weights_cache)
    record = {
        "model": model,
        "weights": weights or "none",
        "file": str(path) if path else None,
        "sha256": sha256_file(path) if path else None,
    }
    write_text_atomic(out, json.dumps(record, indent=2) + "\n")
    print(json.dumps(record))


def train(
    manifest: str,
    model: str,
    best: str,
    history: str,
    checkpoint: str,
    recipe: str,
    seed: int,
    device: str,
    threads: int,
    options: str | None = None,
    weights: str | None = None,
    weights_sha256: str | None = None,
    weights_cache: str | None = None,
    weights_record: str | None = None,
    gpus: int = 0,
) -> None:
    """Fine-tune one model and keep its best-validation weights.

    Args:
        manifest: the split's manifest.tsv
        model: a network of bagnet_repro.config.networks, or torchvision:NAME
        best: output: the weights of the best validation epoch (best.pt)
        history: output CSV: loss, accuracy and learning rate per epoch
        checkpoint: per-epoch resume checkpoint (kept on failure)
        recipe: a preset of config/recipes.py
        seed: the run's seed: every random draw of its training
        device: auto, cpu or cuda[:N]
        threads: CPU threads for torch
        options: JSON object of TrainSettings values that override the recipe
        weights: none, a source the model's record offers (config/networks.py), or a path/URL
        weights_sha256: expected sha256 (or prefix) of a path/URL
        weights_cache: the weights' cache folder (None: the per-machine cache, docs/models-and-weights.md)
        weights_record: the fetch-weights record of --weights: load the verified file it names, not the cache's
        gpus: GPUs the rule gave this job: unusable CUDA then stops it at once (docs/environments.md)
    """
    values = settings_values(recipe, options, model, seed, device)
    start_job(device, threads, gpus)

    from ..config.train_settings import TrainSettings
    from ..models.weights import recorded_file
    from ..training.finetune import train as finetune

    settings = TrainSettings(**values, weights=weights_value(weights, weights_sha256))
    weights_file = recorded_file(weights_record, model, weights or "none") if weights_record else None
    print(
        json.dumps(
            finetune(
                manifest_path=manifest,
                settings=settings,
                best_path=best,
                history_path=history,
                checkpoint_path=checkpoint,
                weights_cache=weights_cache,
                weights_file=weights_file,
            )
        )
    )


STAGES = (Stage("fetch-weights", fetch_weights), Stage("train", train))
