"""``bagnet-repro explain``: stride-1 patch heatmaps of a user's own images, at any size.

The model is an original BagNet with ImageNet weights, a state dict (path or URL), or a fine-tuned
``best.pt`` of this pipeline. Each image is used at its own size (or resized with ``image_size``); the
exact fast method gives, for every pixel, the logit of the patch centred there. Per image, the command
writes an overlay figure of the top classes (PDF and PNG) and the raw arrays (``.npz``).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from ..compute.device import resolve_device
from ..config.catalog import BAGNETS_V2, ORIGINAL_BAGNETS
from ..config.file_names import model_file_name
from ..data.loading import load_image, normalize
from ..errors import UserError
from ..files.atomic import write_npz_atomic
from ..files.torchfile import TorchFileError, read_torch_file
from ..models import get_bagnet
from ..models.bagnet import BagNet
from ..models.registry import IMAGENET_CLASSES
from ..models.trained import checked_record, is_trained_file, model_from_record
from ..models.weights import parse_weights
from ..paper.plotting import draw_heatmap, draw_image, save_figure
from .banded import banded_logits, smallest_side
from .budget import Budget, image_budget
from .patches import METHODS, class_count, exact_patch_size, method_problem, patch_logits


@dataclass
class ExplainedModel:
    """An eval-mode network, its class names and where its weights came from."""

    model: torch.nn.Module
    name: str
    classes: list[str]
    source: str
    trained_size: int | None = None  # the side its weights were trained at (a run's records; ImageNet's 224)


# The side of the ImageNet images the original BagNets' published weights were trained on.
IMAGENET_TRAINING_SIZE = 224


def run_weights(run: str | Path, model_name: str | None) -> tuple[str, str] | None:
    """(model, best.pt) of a run's trained BagNet, first seed: ``model_name`` when given, else the run's first
    BagNet in the catalog's order (smallest patch first); None when the run has none under results/models."""
    models = Path(run) / "results" / "models"
    candidates = [model_name] if model_name else [*ORIGINAL_BAGNETS, *BAGNETS_V2]
    for name in candidates:
        seeds = sorted(
            (models / model_file_name(name)).glob("seed*/best.pt"), key=lambda p: int(p.parent.name[4:] or 0)
        )
        if seeds:
            return name, str(seeds[0])
    return None


def size_warnings(explained: ExplainedModel, images: list[str], image_size: int | None) -> list[str]:
    """One line for each image (or for --image-size) used at another size than the weights were trained at: a
    BagNet's patch logits are learnt at one scale, and objects at another scale may read differently."""
    trained = explained.trained_size
    if trained is None:
        return []
    where = f"{explained.name} was trained at {trained} x {trained} px ({explained.source})"
    if image_size is not None:
        return (
            []
            if image_size == trained
            else [f"warning: --image-size {image_size} differs from the training size: {where}"]
        )
    lines = []
    for path in images:
        size = _header_size(path)
        if size is not None and size != (trained, trained):
            lines.append(f"warning: {path} is {size[0]} x {size[1]} px, not the training size: {where}")
    return lines


def imagenet_categories() -> list[str]:
    """ImageNet's 1000 class names, as torchvision ships them (no download)."""
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])


def _trained_record(weights: str) -> dict | None:
    """The record of ``weights`` when it is a local ``best.pt`` of this pipeline, else None (read once).

    Read weights-only: a file that asks for code is refused here, before anything of it is built. A file
    with a state dict but no head (pretraining's ``weights.pt``) is a weights file, for the weights loader.
    """
    path = Path(weights)
    if not path.is_file():
        return None
    try:
        saved = read_torch_file(path)
    except TorchFileError as exc:
        if exc.unsafe:
            raise UserError(f"cannot read weights file {path}: {exc.reason}") from None
        return None  # a truncated or foreign file: the weights loader names it
    if not is_trained_file(saved) or not isinstance(saved, dict) or "head" not in saved:
        return None
    return checked_record(saved, path)


def load_explained_model(
    model_name: str, weights: str, device: torch.device, cache: str | None = None
) -> ExplainedModel:
    """The network to explain: ``weights`` is ``imagenet``, a state dict path/URL, or a ``best.pt``."""
    if parse_weights(weights) is None:
        raise UserError("explain needs trained weights (--weights imagenet, a state dict, or a best.pt)")
    saved = _trained_record(weights)
    if saved is not None:
        if saved["model"] != model_name:
            raise UserError(f"{weights} holds a {saved['model']}, not a {model_name} (--model)")
        model = model_from_record(saved, device)
        return ExplainedModel(model, model_name, list(saved["classes"]), str(weights), int(saved["image_size"]))
    model = get_bagnet(model_name, weights=weights, num_classes=None, cache=cache).to(device).eval()
    count = class_count(model)
    imagenet = count == IMAGENET_CLASSES
    classes = imagenet_categories() if imagenet else [f"class {i}" for i in range(count)]
    return ExplainedModel(model, model_name, classes, str(weights), IMAGENET_TRAINING_SIZE if imagenet else None)


def _header_size(path: str) -> tuple[int, int] | None:
    """(width, height) from the image's header, nothing decoded; None for a file the loader will name."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None


def bagnet(explained: ExplainedModel) -> BagNet:
    """The network as a BagNet, the only networks with a per-location logit map (every method needs one)."""
    if not isinstance(explained.model, BagNet):
        raise UserError(f"{explained.name} is not a BagNet: no heatmap method applies to it")
    return explained.model


def check_sizes(explained: ExplainedModel, images: list[str], image_size: int | None) -> None:
    """Every image (or ``--image-size``) at least the smallest side the model accepts, before any forward."""
    model = bagnet(explained)
    side = smallest_side(model)
    why = "its receptive field" if exact_patch_size(model) else "the smallest its layers reduce"
    if image_size is not None:
        if image_size < side:
            raise UserError(
                f"--image-size {image_size} is too small for {explained.name}: it needs images of at "
                f"least {side} x {side} px ({why})"
            )
        return
    for path in images:
        size = _header_size(path)
        if size is not None and min(size) < side:
            raise UserError(
                f"image {path} is {size[0]} x {size[1]} px, too small for {explained.name}: it needs at "
                f"least {side} x {side} px ({why}); enlarge it or pass --image-size {side} or more"
            )


def check_budgets(
    explained: ExplainedModel, images: list[str], image_size: int | None, method: str, classes: int, memory_mb: float
) -> dict[str, Budget]:
    """The memory each image needs (from its size alone), named up front; a budget too small for one of them
    refused before any forward."""
    model, budgets = bagnet(explained), {}
    for path in images:
        size = (image_size, image_size) if image_size is not None else _header_size(path)
        if size is None:
            continue
        width, height = size
        budget = image_budget(model, height, width, method, classes)
        if memory_mb < budget.needed_mb:
            raise UserError(
                f"image {path} ({width} x {height} px) needs --memory-mb {budget.needed_mb} or more for "
                f"{explained.name} --method {method} (held for the whole image: its copies, heatmaps, the network's "
                f"working copies and the figure {budget.held_mb:.0f} MB; the smallest "
                f"pass {budget.smallest_pass_mb:.0f} MB); the budget is {memory_mb:g} MB: raise --memory-mb "
                "(heatmaps.memory_mb) or resize the image (--image-size)"
            )
        print(
            f"{path}: {width} x {height} px, {method} needs at least {budget.needed_mb} MB of the "
            f"--memory-mb {memory_mb:g} budget",
            flush=True,
        )
        budgets[path] = budget
    return budgets


def for_drawing(array: np.ndarray, longest: int = 1024) -> np.ndarray:
    """``array`` (... x H x W) with every n-th pixel, so its longer side is at most ``longest``: the figure's
    panels are a few hundred pixels wide, and drawing a photo at full size takes gigabytes."""
    step = math.ceil(max(array.shape[-2:]) / longest)
    return array[..., ::step, ::step] if step > 1 else array


def _output_stems(images: list[str]) -> list[str]:
    """One file stem per image; repeated names get a counter so no output overwrites another."""
    stems: list[str] = []
    seen: dict[str, int] = {}
    for image in images:
        stem = Path(image).stem
        seen[stem] = seen.get(stem, 0) + 1
        stems.append(stem if seen[stem] == 1 else f"{stem}_{seen[stem]}")
    return stems


def _draw(
    image: np.ndarray,
    heatmaps: np.ndarray,
    top: list[int],
    logits: np.ndarray,
    explained: ExplainedModel,
    title: str,
    pdf: Path,
    png: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"pdf.fonttype": 42, "font.size": 8})
    columns = len(top) + 1
    height, width = image.shape[-2:]
    panel = 2.0
    fig, axes = plt.subplots(
        1, columns, figsize=(panel * columns, panel * height / width + 0.6), squeeze=False, constrained_layout=True
    )
    limit = float(np.abs(heatmaps).max())
    draw_image(axes[0, 0], image, title)
    mappable: Any = None
    for column, (k, heatmap) in enumerate(zip(top, heatmaps, strict=True), start=1):
        mappable = draw_heatmap(axes[0, column], heatmap, image, limit, f"{explained.classes[k]} ({logits[k]:.2f})")
    fig.colorbar(mappable, ax=axes[0, -1], shrink=0.8, label="patch logit")
    fig.suptitle(f"{explained.name}: patch logits of the top classes")
    save_figure(fig, pdf, png)


def explain(
    images: list[str],
    model_name: str,
    weights: str,
    out_dir: str,
    classes: int = 3,
    image_size: int | None = None,
    method: str = "fast",
    device: str = "auto",
    memory_mb: float = 2048,
    cache: str | None = None,
) -> list[dict]:
    """Heatmaps of the ``classes`` most likely classes of each image; returns one record per image.

    Writes ``<stem>.pdf``/``<stem>.png`` (the overlay) and ``<stem>.npz`` (``image``, ``classes``, ``top``,
    ``logits`` of all classes, ``heatmaps``: top classes x H x W) into ``out_dir``.
    """
    if classes < 1:
        raise UserError(f"--classes must be at least 1, got {classes}")
    if method not in METHODS:
        raise UserError(f"unknown heatmap method {method!r}; choose one of: {', '.join(METHODS)}")
    missing = [image for image in images if not Path(image).is_file()]
    if missing:
        raise UserError(f"image not found: {missing[0]}")
    dev = resolve_device(device)
    explained = load_explained_model(model_name, weights, dev, cache)
    return explain_images(explained, images, out_dir, classes, image_size, method, dev, memory_mb)


def explain_images(
    explained: ExplainedModel,
    images: list[str],
    out_dir: str,
    classes: int = 3,
    image_size: int | None = None,
    method: str = "fast",
    dev: torch.device | None = None,
    memory_mb: float = 2048,
) -> list[dict]:
    """``explain`` with the network loaded: sizes and budgets checked before any forward, then each image."""
    dev = dev or torch.device("cpu")
    problem = method_problem(explained.model, method, explained.name)
    if problem:
        raise UserError(problem)
    check_sizes(explained, images, image_size)
    for line in size_warnings(explained, images, image_size):
        print(line, file=sys.stderr)
    model = bagnet(explained)
    shown = min(classes, len(explained.classes))
    budgets = check_budgets(explained, images, image_size, method, shown, memory_mb)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for path, stem in zip(tqdm(images, desc="explain", unit="image"), _output_stems(images), strict=True):
        image = load_image(path, image_size)
        batch = normalize(image[None]).to(dev)
        # The image's logits and its heatmaps, both within what the budget leaves after the image's copies and
        # heatmaps (tiles, bands), and the heatmaps of the top classes only: 1000 ImageNet classes at 5000 x
        # 5000 px would be 100 GB.
        height, width = image.shape[-2:]
        held = budgets.get(path) or image_budget(model, height, width, method, shown)
        passes_mb = held.for_passes(memory_mb)
        logits = banded_logits(model, batch, passes_mb).float().cpu()
        top = torch.argsort(logits, descending=True)[:shown].tolist()
        heatmaps = patch_logits(model, batch, method=method, memory_mb=passes_mb, classes=top)[0]
        heatmaps = heatmaps.float().cpu()
        arrays = {
            "image": image.numpy(),
            "classes": np.array(explained.classes),
            "top": np.array(top),
            "logits": logits.numpy(),
            "heatmaps": heatmaps.numpy(),
            "method": np.array(method),
            "model": np.array(explained.name),
            "weights": np.array(explained.source),
        }
        write_npz_atomic(out / f"{stem}.npz", arrays)
        _draw(
            for_drawing(arrays["image"]),
            for_drawing(arrays["heatmaps"]),
            top,
            arrays["logits"],
            explained,
            Path(path).name,
            out / f"{stem}.pdf",
            out / f"{stem}.png",
        )
        records.append(
            {
                "image": path,
                "height_width": list(image.shape[-2:]),
                "top": [explained.classes[k] for k in top],
                "figure": str(out / f"{stem}.pdf"),
                "arrays": str(out / f"{stem}.npz"),
            }
        )
    return records
