"""``bagnet-repro <stage> ...``: the commands the Snakemake rules call, one per pipeline stage.

Each module of this package is one stage: its ``STAGES`` declare the stage's commands, each a typed function
whose command line comes from its signature and docstring (cli/stages.py), and its rule passes a config section as
one ``--params`` object. Values and defaults of the config live in config.yaml and
workflow/schemas/config.schema.yaml (shipped in the package) alone, so the options a rule fills in are required
here.
"""

from __future__ import annotations

import argparse
import sys

from ..config.environment import TRACEBACK, check_switches, switch
from ..errors import UserError, user_message
from . import (
    backbones,
    compute,
    config,
    data,
    evaluate,
    feature_amounts,
    heatmaps,
    paper,
    precision,
    pretrain,
    pretrain_data,
    receptive,
    runs,
    stages,
    train,
)

# In the order of the pipeline; `bagnet-repro --help` lists the commands so.
STAGES = (
    config,
    data,
    train,
    evaluate,
    heatmaps,
    precision,
    receptive,
    pretrain_data,
    pretrain,
    feature_amounts,
    backbones,
    compute,
    paper,
    runs,
)


def build_parser() -> argparse.ArgumentParser:
    """``bagnet-repro --help``: each declared command's line; its own options are parsed by ``stages.run``."""
    parser = argparse.ArgumentParser(prog="bagnet-repro", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="stage", required=True)
    for stage in declared_stages().values():
        listed = subparsers.add_parser(stage.name, help=stage.help, add_help=False)
        listed.add_argument("arguments", nargs=argparse.REMAINDER)
    return parser


def declared_stages() -> dict[str, stages.Stage]:
    """The commands declared as typed functions (cli/stages.py), by name."""
    return {stage.name: stage for module in STAGES for stage in module.STAGES}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    declared = declared_stages()
    if not argv or argv[0] not in declared:
        # --help lists the commands; a missing or unknown one is a usage error (argparse exits)
        parsed = build_parser().parse_args(argv)
        argv = [parsed.stage, *parsed.arguments]
    stage, arguments = declared[argv[0]], argv[1:]  # its options are parsed from its declaration, by tyro

    try:
        check_switches()  # a wrong value stops every command, not only those that read it
        stages.run(stage, arguments)
    except UserError as exc:
        print(f"error: {user_message(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:  # the write errors the package knows are UserErrors; this is the last net
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as exc:  # torch's errors (out of memory among them); BAGNET_REPRO_TRACEBACK=on shows them
        if switch(TRACEBACK):
            raise
        print(f"error: {_runtime_error_line(exc)}", file=sys.stderr)
        return 1
    return 0


def _runtime_error_line(exc: RuntimeError) -> str:
    """One line for a RuntimeError: out of memory says what to lower, anything else points at the traceback."""
    from ..compute.memory import is_out_of_memory

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if is_out_of_memory(exc):
        return (
            f"out of memory ({first}); lower the image size, the batch size or --memory-mb, or use a "
            "device with more memory"
        )
    return f"{first} (a {type(exc).__name__}; rerun with {TRACEBACK}=on for the traceback)"
