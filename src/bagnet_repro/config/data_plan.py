"""The plan of the data a run trains on: the data stage (downloads, the user's folder, the split) and the
pretraining with its data (config/workflow_plan.py composes it with the rest)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from . import planning
from .datasets import IMAGENET_KAGGLE_LAYOUT
from .listing import listing_digest
from .plan_base import DeviceJob, PlanBase, fill, quoted_json
from .pretrain_launch import pretrain_job_resources, torchrun_launch
from .urls import archive_name


class DataPlan(PlanBase):
    """What the data and pretraining rules read and pass on."""

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

    # The pretraining's job and launch.
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
