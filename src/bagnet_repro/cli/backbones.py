"""The vision-toolbox backbones' table: parameters, FLOPs and forward latency beside the published values."""

from __future__ import annotations

from ..config.catalog import BACKBONE_NAMES
from ..errors import UserError
from .arguments import at_least, start_job
from .stages import Stage


def backbone_table(
    names: list[str],
    csv: str,
    md: str,
    tex: str,
    latency_batches: list[int],
    latency_repeats: int,
    device: str,
    threads: int,
    gpus: int = 0,
    latency_warmup: int = 1,
) -> None:
    """The vision-toolbox backbones' params/FLOPs table with forward latency, as csv/md/tex.

    Args:
        names: backbone names (bagnet_repro.config.catalog.BACKBONE_NAMES)
        csv: output table, CSV
        md: output table, Markdown
        tex: output table, LaTeX
        latency_batches: batch sizes whose forward latency is timed
        latency_repeats: timed passes per batch size (median)
        device: auto, cpu or cuda[:N]
        threads: CPU threads for torch
        gpus: GPUs the rule gave this job: unusable CUDA then stops it at once (docs/environments.md)
        latency_warmup: untimed passes per batch size before the timed ones (kernel selection, caches)
    """
    from ..complexity.backbone_table import write_backbone_table
    from ..compute.device import resolve_device

    unknown = sorted(set(names) - set(BACKBONE_NAMES))
    if unknown:  # before torch is imported, as a choice of the command line
        raise UserError(f"--names: unknown backbone(s) {', '.join(unknown)}; choose from: {', '.join(BACKBONE_NAMES)}")
    for batch in latency_batches:
        at_least("--latency-batches", batch, 1)
    at_least("--latency-repeats", latency_repeats, 1)
    at_least("--latency-warmup", latency_warmup, 0)
    start_job(device, threads, gpus)
    table = write_backbone_table(
        names=names,
        csv_path=csv,
        md_path=md,
        tex_path=tex,
        device=resolve_device(device),
        batches=latency_batches,
        repeats=latency_repeats,
        warmup=latency_warmup,
    )
    print(table.drop(columns=["device"]).to_string(index=False))


# --latency-repeats was --repeats: the config's key (backbones.latency_repeats) names it.
STAGES = (Stage("backbone-table", backbone_table, renamed={"--repeats": "--latency-repeats"}),)
