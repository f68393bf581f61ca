"""Every caption of Snakemake's HTML report rendered as the report renders it (Jinja with Snakemake's settings over
the caption, with the rule's own params and input and the run's config, then docutils), from the rules parsed
with a folder run's config and the demo's: each names the run's networks, seeds, image size, data set and
backbones, and no sentence names a network or data set of the report's own setup the run lacks unless it cites
the report."""

from __future__ import annotations

import html
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from planned import parsed_rules
from snakemake.io import get_flag_value, is_flagged

from helpers import PROJECT

# The report's own networks and data set.
REPORT_THINGS = ("bagnet9", "bagnet17", "bagnet33", "resnet50", "densenet121", "densenet169", "cbam_resnet50")


def rendered_captions(workdir: Path, config: dict) -> dict[str, str]:
    """Caption file name -> the words a reader sees, for every report entry of the rules parsed with ``config``."""
    import jinja2
    from docutils.core import publish_parts

    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)  # Snakemake's settings
    captions = {}
    for rule in parsed_rules(workdir, config).values():
        for output in rule.output:
            if not is_flagged(output, "report"):
                continue
            path = Path(get_flag_value(output, "report").caption.get_path_or_uri(secret_free=True))
            snakemake = SimpleNamespace(
                input=rule.input, output=rule.output, params=rule.params, wildcards={}, config=rule.workflow.config
            )
            text = environment.from_string(path.read_text()).render(snakemake=snakemake, categories={}, files=[])
            body = publish_parts(text, writer_name="html")["html_body"]
            assert "System Message" not in body, (path.name, body)
            captions[path.stem] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    return captions


def foreign_sentences(text: str, models: list[str]) -> list[str]:
    lacking = [thing for thing in REPORT_THINGS if thing not in models]
    return [
        sentence
        for sentence in re.split(r"(?<=[.;])\s+(?=[A-Z(])", text)
        if (any(re.search(rf"\b{thing}\b", sentence.lower()) for thing in lacking) or "15-scene" in sentence)
        and "report" not in sentence.lower()
    ]


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    """A folder of pets, one torchvision network over seeds 3 and 4 at 96 px, two backbones measured."""
    root = tmp_path_factory.mktemp("captions")
    for name in ("cat", "dog"):
        (root / "photos" / name).mkdir(parents=True)
    models = ["torchvision:mobilenet_v3_small"]
    config = {
        "data": {"source": "folder", "folder": str(root / "photos"), "name": "Pets"},
        "models": models,
        "seeds": [3, 4],
        "train": {"image_size": 96},
        "weights": {"models": dict.fromkeys(models, "none")},
        "backbones": {"names": ["darknet19", "resnet18"]},
        "precision": {"max_images": 40},
    }
    return models, rendered_captions(root / "work", config)


def test_each_caption_of_a_folder_run_is_written_from_the_run(folder_run):
    models, captions = folder_run
    assert {"table1", "confusion", "training_curves", "classes", "audit", "backbones", "precision"} <= set(captions)
    assert "networks (torchvision:mobilenet_v3_small), trained with seeds 3, 4 at 96 px" in captions["table1"]
    assert "summed over the run's seeds (3, 4;" in captions["confusion"]
    assert "(torchvision:mobilenet_v3_small), each from its first seed (3)" in captions["training_curves"]
    assert "first seed, 3, on at most 40 test images" in captions["precision"]
    assert "The classes of this run's data set, Pets, as its split ( results/data/manifest.tsv )" in captions["classes"]
    assert "the folder's own train/val/test sub-folders" in captions["audit"] and "course" not in captions["audit"]
    backbones = captions["backbones"]
    assert "this run measured ( backbones.names : darknet19, resnet18)" in backbones
    assert "MobileNetV3" not in backbones and "Darknet-53" not in backbones and "VoVNet" not in backbones
    for name, text in captions.items():
        assert foreign_sentences(text, models) == [], name


def test_the_demos_captions_name_its_textures_and_the_notes_of_its_backbones(tmp_path):
    """The demo's three backbones (one of them a MobileNetV3, no Darknet-53), then all of them."""
    from bagnet_repro.config.loading import load_yaml_file

    demo = load_yaml_file(PROJECT / "configs" / "demo.yaml")
    captions = rendered_captions(tmp_path / "demo", demo)
    assert "The classes of this run's data set, the synthetic demo textures" in captions["classes"]
    assert "the course's train/test" in captions["audit"]
    backbones = captions["backbones"]
    assert "( backbones.names : darknet19, vovnet19_slim, mobilenet_v3_small)" in backbones
    assert "MobileNetV3 and EfficientNet come out" in backbones and "Darknet-53" not in backbones
    everything = rendered_captions(tmp_path / "all", {**demo, "backbones": {**demo["backbones"], "names": "all"}})
    backbones = everything["backbones"]
    assert "this run measured (all of them:" in backbones and "MobileNetV3" in backbones and "Darknet-53" in backbones
    seeds = ", ".join(map(str, demo["seeds"]))
    assert f"trained with seeds {seeds} at {demo['train']['image_size']} px" in captions["table1"]
