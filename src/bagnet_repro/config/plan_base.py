"""The base of a workflow's plan: the config section a stage is given, the models and seeds, a rule output with
its wildcards filled in, the device of a job and the weights of a model. Torch-free and free of Snakemake, like the
planning built on it (config/workflow_plan.py)."""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from . import planning
from .file_names import model_file_name, model_from_file_name
from .studies import Studies, resolve_studies

# Keys of a config section that only the planning or another stage reads (summarize reads the paired tests'
# choice, inventory the course protocol's training images per class, heatmaps the band's budget, the heatmaps
# notebook the classes shown): the section's own stage is given it without them.
PLANNING_ONLY = {
    "evaluate": ("sweep_max_grid", "paired_tests", "reference_model"),
    "split": ("course_train_per_class",),
    "heatmaps": ("classes_shown", "memory_mb"),
    # which runs there are (the jobs' {variant} and {seed}) and feature-amount-data's download folder
    "feature_amounts": ("variants", "uniform", "seeds", "cache"),
}


def fill(pattern: str | os.PathLike, **wildcards: object) -> str:
    """``pattern`` (an output of a rule, with {name} wildcards) with every wildcard given a value.

    A rule's output carries Snakemake's flags, among them the mark that a module's prefix has been applied; the
    filled path keeps them (as Snakemake's own expand does), or the prefix would be applied a second time
    (``runA/runA/results/...``)."""
    if "model" in wildcards:  # a network's file-name form (config/file_names.py): no colon in any path
        wildcards["model"] = model_file_name(str(wildcards["model"]))
    text = str(pattern).format(**wildcards)
    flags = getattr(pattern, "flags", None)
    if not flags:
        return text
    from snakemake.io import AnnotatedString  # a rule's output: the workflow is being parsed

    filled = AnnotatedString(text)
    filled.flags.update(flags)
    return filled


def quoted_json(value: object) -> str:
    """``value`` as one shell word of sorted JSON (what a stage's --options reads)."""
    return shlex.quote(json.dumps(value, sort_keys=True))


@dataclass(frozen=True)
class DeviceJob:
    """What makes a job a device job: its CPU threads, the GPUs it asks the scheduler for (as the resources
    compute.gpu_resource names) and the device its command is given. One per stage section of the config."""

    device: str
    threads: int
    resources: dict[str, int | str] = field(default_factory=dict)


@dataclass
class PlanBase:
    """One workflow config (validated and defaults filled in, as Snakemake holds it) and what every stage's
    planning asks of it."""

    config: dict
    project_dir: Path
    studies: Studies = field(init=False)  # which optional studies run (config/studies.py)

    def __post_init__(self) -> None:
        self.project_dir = Path(self.project_dir)
        self.studies = resolve_studies(self.config)

    def section(self, name: str, **values: object) -> str:
        """The config section ``name`` (with ``values`` replacing keys) as the one JSON object a rule passes its
        stage (``--params``: cli/stages.py), less the keys only the planning reads. A dotted name is a section
        within a section (``data.demo``)."""
        config = self.config
        for key in name.split("."):
            config = config[key]
        section = {k: v for k, v in config.items() if k not in PLANNING_ONLY.get(name, ())}
        return json.dumps({**section, **values}, sort_keys=True)

    # The models and seeds of the main study.
    @property
    def models(self) -> list[str]:
        return list(self.config["models"])

    @property
    def seeds(self) -> list[int]:
        return list(self.config["seeds"])

    @property
    def first_seed(self) -> int:
        """The seed of the single-run studies (heatmaps, precision, training curves)."""
        return self.seeds[0]

    def source_file(self, relative: str) -> str:
        """A tracked file of the checkout (a notebook, the report template), as a path from the working folder,
        so the rule's input names the same file wherever the checkout and its results move together.

        Not workflow.source_path: it records the file's absolute path as the input, so a run moved with its
        checkout would rerun every notebook (Snakemake's input trigger)."""
        return os.path.relpath(self.project_dir / relative)

    # Device jobs (train, evaluate, heatmaps, precision, the studies) and the pretraining.
    @property
    def device_job(self) -> DeviceJob:
        """compute.device and compute.threads; the GPUs come from the device, never from the planning host."""
        compute = self.config["compute"]
        gpus = planning.gpus_for_device(compute["device"])
        return DeviceJob(compute["device"], compute["threads"], planning.gpu_resources(gpus, compute["gpu_resource"]))

    def model_weights(self, model: str) -> str | dict:
        """The configured weights of ``model`` (its name, or its file-name form from a {model} wildcard): a
        keyword, path/URL, or {url, sha256}; "none" if unlisted."""
        return self.config["weights"]["models"].get(model_from_file_name(model), "none")
