"""Fine-tuning by recipe (the report's by default: Adam, fixed epochs, keep the best-validation weights).

The entry point of the train job: the loop, its resume checkpoint and the optimization are the training library
(``loop.py``, ``checkpoints.py``, ``optimization.py``, ``trainer.py``; the settings in ``settings.py``), shared with
pretraining and the feature-amount study.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ..compute.device import resolve_device
from ..compute.tracking import job_record
from ..config.train_settings import TrainSettings, check_choices
from ..data.inventory import read_records
from ..data.loading import load_split, manifest_classes
from ..errors import UserError
from ..files.atomic import check_writable
from ..models import build_model
from ..models.trained import save_trained
from .checkpoints import discard_checkpoint, seed_everything
from .loop import fit


def train(
    manifest_path: str,
    settings: TrainSettings,
    best_path: str,
    history_path: str,
    checkpoint_path: str,
    weights_cache: str | None = None,
    weights_file: Path | None = None,
) -> dict:
    """Fine-tune ``settings.model`` on the manifest's train split (``fit``, resumable), keep the best weights
    (by ``settings.select``) in ``best_path`` and the per-epoch history; then delete the checkpoint. Every attempt
    (killed, failed or not) is counted in the compute record beside ``best_path`` (``compute/accounting.py``).

    ``weights_file``: the verified file of ``settings.weights`` that fetch-weights recorded (else it is looked up in
    ``weights_cache``)."""
    check_choices(settings)
    if settings.normalization != "imagenet":
        raise UserError(
            "normalization is an option of the feature-amount study: the fine-tuned models are "
            "evaluated with ImageNet's statistics, so they are trained with them"
        )
    check_writable(checkpoint_path, best_path, history_path)
    device = resolve_device(settings.device)
    job = job_record(
        best_path, "train", f"{settings.model}_seed{settings.seed}", device, None, settings.model, settings.seed
    )
    with job:
        seed_everything(settings.seed)
        manifest = read_records(manifest_path)
        classes = manifest_classes(manifest)  # the data's own classes, sorted: the head's size and order
        train_set = load_split(manifest, "train", settings.image_size)
        val_set = load_split(manifest, "val", settings.image_size)
        model = build_model(
            settings.model,
            len(classes),
            weights=settings.weights,
            head=settings.head,
            cache=weights_cache,
            weights_file=weights_file,
        )
        source = settings.weights or "random init"
        print(f"{settings.model}: starting from {source}" + (f" ({weights_file})" if weights_file else ""), flush=True)
        state = fit(
            model, train_set, val_set, settings, len(classes), history_path, checkpoint_path, manifest_path, job
        )
        assert state.best.weights is not None  # fit refuses a run without an epoch
        save_trained(
            best_path,
            model=settings.model,
            head=settings.head,
            classes=classes,
            image_size=settings.image_size,
            epoch=state.best.epoch,
            val_acc=state.best.val_acc,
            val_loss=state.best.val_loss,
            settings=asdict(settings),
            state_dict=state.best.weights,
        )
        discard_checkpoint(Path(checkpoint_path))
    return {
        "best_epoch": state.best.epoch,
        "best_val_acc": state.best.val_acc,
        "best_val_loss": state.best.val_loss,
        "epochs_run": state.epoch,
    }
