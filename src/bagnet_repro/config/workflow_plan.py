"""What the workflow runs, decided from the config alone: the models and seeds, which studies run, the weights of
each model, the data each stage reads and the values each rule passes on (the rule files only name files).

Torch-free and free of Snakemake, so it is tested on config dicts; the rule files build one ``WorkflowPlan`` and
give it the output patterns of their rules (``rules.X.output``) where an answer is a file of another rule. The
plan is composed of the base (config/plan_base.py), the data and pretraining (config/data_plan.py) and the optional
studies (config/study_plan.py); the weights, the training and the report are planned here."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from ..errors import UserError
from . import planning
from .data_plan import DataPlan
from .plan_base import PLANNING_ONLY, DeviceJob, fill, quoted_json
from .recipes import recipe_values
from .study_plan import PRECISION_SOURCES, StudyPlan

__all__ = ["PLANNING_ONLY", "PRECISION_SOURCES", "DeviceJob", "WorkflowPlan", "fill", "quoted_json"]


class WorkflowPlan(DataPlan, StudyPlan):
    """The plan of one workflow config (validated and defaults filled in, as Snakemake holds it)."""

    train_settings: dict

    def __post_init__(self) -> None:
        self.train_settings = self._train_settings()
        super().__post_init__()

    # Weights.
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
    def named_options(files, *names: str) -> str:
        """``--<name> <file>`` for each of ``names`` that ``files`` (a rule's input or output) holds: a stage is
        given a switched-off study's files not at all (``plan.study_files``)."""
        given = {name: files.get(name) for name in names}  # a Namedlist's `in` would look among its files
        return " ".join(f"--{name.replace('_', '-')} {file}" for name, file in given.items() if file is not None)

    @staticmethod
    def when(condition: object, outputs: Iterable) -> list:
        """``outputs`` (a rule's output) as a list of files when ``condition`` holds, else none (the rule's own
        file objects, which a module's prefix has already reached)."""
        return list(outputs) if condition else []
