"""What the workflow runs, decided from the config alone: the models and seeds, which studies run, the weights of
each model, the data each stage reads and the values each rule passes on (the rule files only name files).

Torch-free and free of Snakemake, so it is tested on config dicts; the rule files build one ``WorkflowPlan`` and
give it the output patterns of their rules (``rules.X.output``) where an answer is a file of another rule."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from . import catalog, planning
from .cache_paths import datasets_cache
from .datasets import FEATURE_AMOUNT_IMAGE_SIZE, FEATURE_AMOUNT_TORCHVISION, IMAGENET_KAGGLE_LAYOUT
from .file_names import model_file_name, model_from_file_name
from .listing import listing_digest
from .pretrain_launch import pretrain_job_resources, torchrun_launch
from .recipes import recipe_values
from .studies import resolve_studies
from .urls import archive_name

PRECISION_SOURCES = ("trained", "imagenet")  # the precision study's model sources (its {source} wildcard)

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
class WorkflowPlan:
    """The plan of one workflow config (validated and defaults filled in, as Snakemake holds it)."""

    config: dict
    project_dir: Path

    def __post_init__(self) -> None:
        self.project_dir = Path(self.project_dir)
        self.train_settings = self._train_settings()
        self.studies = resolve_studies(self.config)  # which optional studies run (config/studies.py)

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

    @property
    def pretrain_job(self) -> DeviceJob:
        """One GPU per torchrun process of a node unless pretraining on the CPU; one node, or pretrain.nodes
        nodes with one torchrun agent each (config/pretrain_launch.py, docs/pretraining.md)."""
        pretrain = self.config["pretrain"]
        gpus = planning.gpus_for_device(pretrain["device"], per_job=pretrain["processes"])
        one_node = planning.gpu_resources(gpus, self.config["compute"]["gpu_resource"])
        # each node's task gets the job's threads
        resources = pretrain_job_resources(pretrain["nodes"], lambda wildcards, threads: threads, gpus, one_node)
        return DeviceJob(pretrain["device"], pretrain["threads"], resources)

    def pretrain_launch(self, torchrun: str, threads: int) -> str:
        """torchrun on one node, or srun starting one agent per node, up to the module it runs."""
        pretrain = self.config["pretrain"]
        gpus = planning.gpus_for_device(pretrain["device"], per_job=pretrain["processes"])
        return torchrun_launch(
            torchrun,
            pretrain["nodes"],
            pretrain["processes"],
            pretrain["max_restarts"],
            pretrain["rendezvous_port"],
            threads,
            gpus,
        )

    # Weights.
    def model_weights(self, model: str) -> str | dict:
        """The configured weights of ``model`` (its name, or its file-name form from a {model} wildcard): a
        keyword, path/URL, or {url, sha256}; "none" if unlisted."""
        return self.config["weights"]["models"].get(model_from_file_name(model), "none")

    def fetches_weights(self, model: str) -> bool:
        """Whether rule fetch_weights downloads ``model``'s weights (not none, nor this workflow's pretraining)."""
        return self.model_weights(model) not in ("none", "pretrained")

    def pretrained_weights(self, model: str, pretrained: str) -> str:
        """``pretrained`` (rule pretrain's weights output) for ``model`` and the configured pretraining set."""
        return fill(pretrained, dataset=self.config["pretrain"]["dataset"], model=model)

    def weights_options(self, model: str, pretrained: str) -> str:
        """``--weights ... [--weights-sha256 ...] [--weights-cache ...]`` for the package command; weights
        ``pretrained`` are this workflow's own pretraining (``pretrained``: rule pretrain's weights output)."""
        value = self.model_weights(model)
        if value == "pretrained":
            value = self.pretrained_weights(model, pretrained)
        arguments = planning.weights_arguments(value, self.config["weights"]["cache"])
        return " ".join(shlex.quote(argument) for argument in arguments)

    def weights_input(self, model: str, record: str, pretrained: str) -> list[str] | str:
        """What training waits for: the verified download's record (``record``: rule fetch_weights' output, a
        localrule on the submit host), the pretraining's weights, or nothing."""
        value = self.model_weights(model)
        if value == "none":
            return []
        if value == "pretrained":
            return self.pretrained_weights(model, pretrained)
        return fill(record, model=model)

    def weights_record_option(self, model: str, record: str) -> str:
        """``--weights-record`` with the record the job is given: it loads the file fetch_weights verified."""
        return f"--weights-record {shlex.quote(record)}" if self.fetches_weights(model) else ""

    # The data stage.
    @property
    def data_source(self) -> str:
        return self.config["data"]["source"]

    def archive_names(self) -> list[str]:
        """File names of the configured downloads, in order (the last path component of each URL)."""
        return [archive_name(entry) for entry in self.config["data"]["urls"]]

    def archive_entry(self, name: str) -> dict:
        """The data.urls entry whose download is named ``name``."""
        return dict(zip(self.archive_names(), self.config["data"]["urls"], strict=True))[name]

    def data_root_input(self, demo: str, extracted: str) -> list[str] | str:
        """Input of the inventory step: the demo folder, the extracted downloads, or nothing (the user's folder)."""
        return {"demo": demo, "url": extracted}.get(self.data_source, [])

    def user_data_folder(self) -> str | None:
        """The user's own folder the inventory lists (``data.local_dir`` or ``data.folder``), or None."""
        data = self.config["data"]
        return {"local": data["local_dir"], "folder": data["folder"]}.get(self.data_source)

    def data_root(self, inputs: Iterable[str]) -> str | None:
        """The folder the inventory lists: the rule's input, or the user's own folder."""
        inputs = list(inputs)
        return inputs[0] if inputs else self.user_data_folder()

    @property
    def data_layout(self) -> str:
        """The inventory's and split's --layout: the user's own folder, or the 15-scene layouts (the demo's too)."""
        return "folder" if self.data_source == "folder" else "scene15"

    def local_data_digest(self) -> str:
        """For the user's own folder, a digest of its listing (config/listing.py): a parameter of the inventory
        rule, so pointing at another folder or changing a file in it reruns the inventory and all after it.
        The other sources are outputs of this workflow, which Snakemake tracks itself."""
        folder = self.user_data_folder()
        return listing_digest(folder) if folder else ""

    def split_file_input(self) -> list[str]:
        split_file = self.config["data"].get("split_file")
        return [split_file] if split_file else []

    # The pretraining data and the pretraining.
    @property
    def pretrain_dataset(self) -> str:
        return self.config["pretrain"]["dataset"]

    def imagenette_archive(self) -> str:
        return archive_name({"url": self.config["pretrain"]["imagenette"]["url"]})

    def imagenet_download_input(self, record: Iterable[str]) -> list[str]:
        """With imagenet_source kaggle, the validation folders wait for the download (``record``)."""
        return list(record) if self.config["pretrain"]["imagenet_source"] == "kaggle" else []

    @staticmethod
    def pretrain_data_input(dataset: str, imagenette: str, imagenet_val: str) -> str:
        return imagenette if dataset == "imagenette" else imagenet_val

    def pretrain_train_dir(self, dataset: str, data: str) -> str:
        """The training images of the pretraining set (class folders); ``data`` is the split rule's input."""
        if dataset == "imagenette":
            tops = [p for p in Path(data).iterdir() if p.is_dir()]
            return str(tops[0] / "train") if len(tops) == 1 and (tops[0] / "train").is_dir() else f"{data}/train"
        return f"{self.config['pretrain']['imagenet_dir']}/{IMAGENET_KAGGLE_LAYOUT[0]}"

    def pretrain_options(self) -> str:
        """pretrain.options (TrainSettings overrides of the recipe) as a quoted JSON object."""
        return quoted_json(self.config["pretrain"]["options"])

    def pretrain_outputs(self, split: str, weights: str) -> list[str]:
        """The pretraining's split and the weights of every pretrained model; none when pretraining is off."""
        dataset = self.pretrain_dataset
        if dataset == "none":
            return []
        models = self.config["pretrain"]["models"]
        return [fill(split, dataset=dataset)] + [fill(weights, dataset=dataset, model=m) for m in models]

    # Training.
    def _train_settings(self) -> dict:
        """The recipe's preset with the keys given under ``train:`` on top, resolved here so each train
        command shows every value it runs with (and a change of recipe reruns it)."""
        overrides = {k: v for k, v in self.config["train"].items() if k != "recipe"}
        try:
            return recipe_values(self.config["train"]["recipe"], overrides)
        except UserError as exc:
            raise UserError(f"config error at 'train.recipe': {exc}") from None

    def train_options(self) -> str:
        """The resolved training settings, as a quoted JSON object."""
        return quoted_json(self.train_settings)

    # Heatmaps.
    @property
    def heatmap_models(self) -> list[str]:
        """The original BagNets among the configured models (exact stride-1 heatmaps), smallest patch first; none
        when studies.heatmaps switches the study off."""
        return catalog.heatmap_models(self.models) if self.studies.runs["heatmaps"] else []

    @property
    def main_heatmap_model(self) -> str | None:
        """The BagNet that picks the heatmap images and draws Figures 2 and 4 (the largest patch)."""
        return catalog.main_heatmap_model(self.heatmap_models)

    # The precision study.
    def precision_section(self) -> str:
        """The precision section (max_images) with the evaluation's batch size: rule precision's --params."""
        return self.section("precision", batch_size=self.config["evaluate"]["batch_size"])

    def precision_runs(self) -> list[tuple[str, str]]:
        """(source, model) of the precision study: every trained model (first seed), plus the original
        ImageNet BagNets whose weights the config fetches."""
        trained = [("trained", m) for m in self.models]
        bagnets = catalog.heatmap_models(self.models)  # also when the heatmaps are switched off
        imagenet = [("imagenet", m) for m in bagnets if self.model_weights(m) == "imagenet"]
        return trained + imagenet

    def precision_files(self, pattern: str) -> list[str]:
        """``pattern`` (an output of rule precision) of every precision run."""
        return [fill(pattern, source=source, model=model) for source, model in self.precision_runs()]

    def precision_model_input(self, source: str, model: str, best: str, record: str) -> str:
        """A trained run's best.pt (``best``, first seed), or the verified ImageNet weights' ``record``."""
        if source == "trained":
            return fill(best, model=model, seed=self.first_seed)
        return fill(record, model=model)

    @staticmethod
    def precision_model_options(source: str, model: str, model_file: str) -> str:
        """The trained checkpoint, or the original BagNet with the record of its verified ImageNet weights."""
        if source == "trained":
            return f"--checkpoint {shlex.quote(model_file)}"
        return f"--model {model} --weights-record {shlex.quote(model_file)}"

    # Mundt et al.'s feature-amount study.
    @property
    def feature_amounts_run(self) -> bool:
        """studies.feature_amounts, resolved (auto: feature_amounts.dataset is not none)."""
        return self.studies.runs["feature_amounts"]

    @property
    def feature_amount_study(self) -> str:
        """The study's folder name: its data set and depth, so studies do not mix."""
        study = self.config["feature_amounts"]
        return f"{study['dataset']}_depth{study['depth']}"

    @property
    def feature_amount_dir(self) -> str:
        return f"results/feature_amounts/{self.feature_amount_study}"

    feature_amount_downloads = tuple(FEATURE_AMOUNT_TORCHVISION)

    def feature_amount_variants(self, select_ids: Callable[..., list[int]], uniform: str) -> list[str]:
        """The configured model ids (in the family's order), then the uniform network if asked for.

        ``select_ids`` and ``uniform`` come from the study's family module (above this layer); the rule asks
        only when the study's outputs are wanted: listing the family takes seconds."""
        study = self.config["feature_amounts"]
        image_size = recipe_values(study["recipe"], study["options"]).get("image_size", FEATURE_AMOUNT_IMAGE_SIZE)
        try:
            ids = select_ids(study["depth"], study["variants"], image_size)
        except ValueError as exc:
            raise UserError(f"config error at 'feature_amounts.variants': {exc}") from None
        return [str(i) for i in ids] + ([uniform] if study["uniform"] else [])

    def feature_amount_cache(self) -> str:
        """Where torchvision's data sets are downloaded once per machine."""
        return str(datasets_cache(self.config["feature_amounts"]["cache"]))

    def feature_amount_data_file(self, manifest: str, downloaded: str) -> str:
        """The run's data: this workflow's manifest (scene15), or the record of the downloaded data set."""
        dataset = self.config["feature_amounts"]["dataset"]
        return manifest if dataset == "scene15" else fill(downloaded, dataset=dataset)

    # The backbones' table.
    @property
    def backbone_names(self) -> list[str]:
        """The backbones the table measures: studies.backbones with backbones.names (config/studies.py)."""
        return self.studies.backbones

    # The report.
    def paired_test_options(self) -> str:
        """The paired tests' networks: ``--paired-tests`` and, when the config names one, ``--reference``."""
        evaluate = self.config["evaluate"]
        pairing = f"--paired-tests {evaluate['paired_tests']}"
        reference = evaluate.get("reference_model")
        return f"{pairing} --reference {shlex.quote(reference)}" if reference else pairing

    def prediction_runs(self, predictions: str) -> list[tuple[str, int, str]]:
        """(model, seed, predictions file) of every evaluated run, in the config's order."""
        return [(m, s, fill(predictions, model=m, seed=s)) for m in self.models for s in self.seeds]

    def paper_files(self, tables: dict, heatmaps: dict, feature_amounts: dict, backbones: dict) -> dict[str, object]:
        """Name -> file of every table and figure the report includes: ``tables`` always, each study's only
        when it runs. The files stay the rules' own output objects: in a module with a prefix they carry it
        already, and Snakemake would prefix a plain string a second time (``runB/runB/report/...``)."""
        files = dict(tables)
        for runs, study in (
            (bool(self.heatmap_models), heatmaps),
            (self.feature_amounts_run, feature_amounts),
            (bool(self.backbone_names), backbones),
        ):
            if runs:
                files.update(study)
        return files

    @staticmethod
    def when(condition: object, outputs: Iterable) -> list:
        """``outputs`` (a rule's output) as a list of files when ``condition`` holds, else none (the rule's own
        file objects, which a module's prefix has already reached)."""
        return list(outputs) if condition else []
