"""Evaluation and statistics: accuracy clean and scrambled per run, then Table 1 over all runs."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from tyro.conf import UseAppendAction, arg

from ..errors import UserError
from .arguments import at_least, start_job
from .stages import Stage


def evaluate(
    checkpoint: str,
    manifest: str,
    metrics: str,
    predictions: str,
    scramble_grid: int,
    sweep_grids: list[int],
    scramble_seed: int,
    batch_size: int,
    device: str,
    threads: int,
    gpus: int = 0,
    precision: Literal["fp32", "bf16", "fp16"] = "fp32",
) -> None:
    """Accuracy on val, test and the g x g scrambled test.

    Args:
        checkpoint: the trained model (train's best.pt)
        manifest: the split's manifest.tsv
        metrics: output JSON: accuracy per split, clean and scrambled
        predictions: output TSV: every test image's prediction, clean and scrambled
        scramble_grid: Table 1's scrambled test: g x g pieces
        sweep_grids: grids of the scrambling sweep
        scramble_seed: seed of the pieces' shuffle
        batch_size: images per forward pass
        device: auto, cpu or cuda[:N]
        threads: CPU threads for torch
        gpus: GPUs the rule gave this job: unusable CUDA then stops it at once (docs/environments.md)
        precision: autocast dtype of the forward passes: fp32 keeps the accuracies exact, bf16 or fp16 is faster
            on a GPU and may flip a few borderline predictions
    """
    from ..evaluation.evaluate import evaluate as evaluate_run

    at_least("--scramble-grid", scramble_grid, 1)
    for grid in sweep_grids:
        at_least("--sweep-grids", grid, 1)
    at_least("--scramble-seed", scramble_seed, 0)
    at_least("--batch-size", batch_size, 1)
    start_job(device, threads, gpus)
    print(
        json.dumps(
            evaluate_run(
                checkpoint=checkpoint,
                manifest_path=manifest,
                metrics_path=metrics,
                predictions_path=predictions,
                scramble_grid=scramble_grid,
                scramble_seed=scramble_seed,
                batch_size=batch_size,
                device=device,
                sweep_grids=tuple(sweep_grids),
                precision=precision,
            )
        )
    )


# One evaluated run per --predictions: the flag repeats, each time with three words.
RepeatedModelSeedTsv = Annotated[UseAppendAction[list[tuple[str, str, str]]], arg(metavar="MODEL SEED TSV")]


def summarize(
    predictions: RepeatedModelSeedTsv,
    table1: str,
    mcnemar: str,
    per_class: str,
    confusion: str,
    scramble_grid: int,
    bootstrap: int = 2000,
    bootstrap_seed: int = 0,
    reference: str | None = None,
    paired_tests: Literal["reference", "all"] = "reference",
    sweep: str | None = None,
) -> None:
    """Table 1 with bootstrap CIs, McNemar tests, per-class metrics, and the sweep when asked for.

    Args:
        predictions: one evaluated run: its model, seed and predictions file, the option once per run
        table1: output CSV: table1
        mcnemar: output CSV: mcnemar
        per_class: output CSV: per class
        confusion: output CSV: confusion
        scramble_grid: the g of the runs' g x g scrambled test (evaluate.scramble_grid): the report's values are
            for 4 x 4
        bootstrap: bootstrap draws
        bootstrap_seed: seed of the bootstrap draws
        reference: the network the paired tests compare with; None: the first BagNet
        paired_tests: McNemar tests of the reference against each network, or of every pair
        sweep: output CSV: the scrambling sweep (the runs must be evaluated on its grids); none without the sweep
            (studies.sweep: false)
    """
    from ..evaluation.statistics import summarize as summarize_runs

    if not predictions:
        raise UserError("summarize needs --predictions MODEL SEED TSV, once per evaluated run")
    at_least("--scramble-grid", scramble_grid, 1)
    at_least("--bootstrap", bootstrap, 1)
    at_least("--bootstrap-seed", bootstrap_seed, 0)
    files = {}
    for model, seed, path in predictions:
        try:
            files[(model, int(seed))] = path
        except ValueError:
            raise UserError(f"--predictions {model} {seed} {path}: the seed must be an integer") from None
    outputs = {"table1": table1, "mcnemar": mcnemar, "per_class": per_class, "confusion": confusion}
    if sweep is not None:
        outputs["sweep"] = sweep
    summary = summarize_runs(
        files=files,
        outputs=outputs,
        scramble_grid=scramble_grid,
        draws=bootstrap,
        seed=bootstrap_seed,
        reference=reference,
        pairing=paired_tests,
    )
    print(json.dumps(summary))


STAGES = (Stage("evaluate", evaluate), Stage("summarize", summarize))
