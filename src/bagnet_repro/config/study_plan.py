"""The plan of the optional studies: the scrambling sweep, the heatmaps, the precision study, the feature-amount
study and the backbones' table, each only when config/studies.py says it runs (config/workflow_plan.py composes
it with the rest)."""

from __future__ import annotations

import shlex
from collections.abc import Callable

from ..errors import UserError
from . import catalog
from .cache_paths import datasets_cache
from .datasets import FEATURE_AMOUNT_IMAGE_SIZE, FEATURE_AMOUNT_TORCHVISION
from .plan_base import PlanBase, fill
from .recipes import recipe_values

PRECISION_SOURCES = ("trained", "imagenet")  # the precision study's model sources (its {source} wildcard)


class StudyPlan(PlanBase):
    """What the studies' rules read and pass on."""

    def study_files(self, study: str, files: dict) -> dict:
        """``files`` (name -> file of a rule section) when ``study`` runs, else none: a rule declares, reads or
        passes on a switched-off study's files not at all (``**plan.study_files(...)`` in a rule section)."""
        return dict(files) if self.studies.runs[study] else {}

    # The scrambling sweep.
    @property
    def sweep_run(self) -> bool:
        """studies.sweep, resolved (auto: every data set)."""
        return self.studies.runs["sweep"]

    def evaluate_section(self) -> str:
        """The evaluate section (rule evaluate's --params); without the sweep it evaluates no sweep grid, only
        Table 1's scrambled one."""
        return self.section("evaluate") if self.sweep_run else self.section("evaluate", sweep_grids=[])

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
    @property
    def precision_run(self) -> bool:
        """studies.precision, resolved (auto: every data set)."""
        return self.studies.runs["precision"]

    def precision_section(self) -> str:
        """The precision section (max_images) with the evaluation's batch size: rule precision's --params."""
        return self.section("precision", batch_size=self.config["evaluate"]["batch_size"])

    def precision_runs(self) -> list[tuple[str, str]]:
        """(source, model) of the precision study: every trained model (first seed), plus the original
        ImageNet BagNets whose weights the config fetches; none when studies.precision switches it off."""
        if not self.precision_run:
            return []
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
