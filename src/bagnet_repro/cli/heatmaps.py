"""Heatmaps: the images of Figures 2-4 chosen, their stride-1 patch logits, and ``explain`` for your own."""

from __future__ import annotations

import json
import os
import sys

from tyro.conf import Positional

from ..errors import UserError
from .arguments import at_least, start_job
from .stages import Stage


def select_heatmap_images(predictions: str, count: int, out: str, images: tuple[str, ...] = ()) -> None:
    """Choose the test images of Figures 2-4.

    Args:
        predictions: predictions TSV of the model that picks the images
        count: images to pick when --images is not given
        out: TSV of the chosen images (path, label, sha256)
        images: test image file names to draw
    """
    from ..heatmaps.selection import write_selection

    at_least("--count", count, 1)
    print(json.dumps(write_selection(predictions_path=predictions, count=count, wanted=list(images), out_path=out)))


def heatmaps(
    checkpoints: list[str],
    selection: str,
    out: str,
    scramble_grid: int,
    scramble_seed: int,
    memory_mb: float,
    device: str,
    threads: int,
    gpus: int = 0,
) -> None:
    """Stride-1 patch heatmaps of chosen test images (Figures 2-4).

    Args:
        checkpoints: best.pt of each original BagNet
        selection: the chosen images (select-heatmap-images)
        out: .npz with images, heatmaps and logits
        scramble_grid: the scrambled copy of the first image (Figure 4): g x g pieces, shuffled
        scramble_seed: seed of the pieces' order
        memory_mb: MB the activations of one dense band may take (the images, heatmaps and networks come on top)
        device: auto, cpu or cuda[:N]
        threads: CPU threads for torch
        gpus: GPUs the rule gave this job: unusable CUDA then stops it at once (docs/environments.md)
    """
    from ..heatmaps.selection import compute_heatmaps

    if not checkpoints:
        raise UserError("--checkpoints needs at least one best.pt")
    at_least("--scramble-grid", scramble_grid, 1)
    at_least("--scramble-seed", scramble_seed, 0)
    start_job(device, threads, gpus)
    print(
        json.dumps(
            compute_heatmaps(
                checkpoints=checkpoints,
                selection_path=selection,
                out_path=out,
                scramble_grid=scramble_grid,
                scramble_seed=scramble_seed,
                device=device,
                memory_mb=memory_mb,
            )
        )
    )


def explain(
    images: Positional[list[str]],
    model: str | None = None,
    weights: str | None = None,
    run: str = ".",
    classes: int = 3,
    out: str = "explained",
    image_size: int | None = None,
    method: str = "fast",
    memory_mb: float = 2048,
    weights_cache: str | None = None,
    device: str = "auto",
    threads: int | None = None,
) -> None:
    """Heatmaps of your own images (any size): overlay figure and logit arrays.

    Args:
        images: image files (JPEG, PNG, ...), each at its own size
        model: an original BagNet (bagnet_repro.config.catalog.ORIGINAL_BAGNETS: exact heatmaps), or *_v2 with
            --method upsampled; None: the run's first trained BagNet (--run), else bagnet33
        weights: imagenet, a state-dict path/URL (e.g. BagNets-v2's), or a best.pt of this pipeline; None: the
            run's best.pt of --model (first seed), else imagenet
        run: the working folder of a finished run, whose trained BagNet (classes, training size) explain uses when
            --weights is not given
        classes: the K most likely classes to draw
        out: folder for <image>.pdf/.png/.npz
        image_size: resize to N x N first, N at least 9; None: as is
        method: fast (exact, default), reference (patch cropping) or upsampled
        memory_mb: MB of memory explaining one image may take: its copies, heatmaps, the network's working copies
            and the passes' activations; a smaller budget than an image needs is refused before any work
        weights_cache: folder of downloaded weights; None: the per-machine cache, docs/models-and-weights.md
        device: auto, cpu or cuda[:N]
        threads: CPU threads for torch; None: every CPU core
    """
    if not images:
        raise UserError("explain needs at least one image file")
    at_least("--classes", classes, 1)
    if image_size is not None:
        at_least("--image-size", image_size, 9)
    threads = (os.cpu_count() or 1) if threads is None else threads
    at_least("--threads", threads, 1)
    # A first line at once: importing torch and reading a large image take seconds before the first bar.
    print(f"explain: {len(images)} image(s); loading torch, the network and the images", flush=True)
    from ..heatmaps.explain import explain as explain_images
    from ..heatmaps.explain import run_weights

    if weights is None:
        found = run_weights(run, model)
        if found:
            model, weights = found
            print(f"explaining with the run's {model}: {weights}")
        else:
            model, weights = model or "bagnet33", "imagenet"
            print(f"no trained BagNet under {run}/results/models: explaining with {model}'s ImageNet weights")
    start_job(device, threads, stream=sys.stdout)
    records = explain_images(
        images=images,
        model_name=model or "bagnet33",
        weights=weights,
        out_dir=out,
        classes=classes,
        image_size=image_size,
        method=method,
        device=device,
        memory_mb=memory_mb,
        cache=weights_cache,
    )
    for record in records:
        print(json.dumps(record))


STAGES = (
    Stage("select-heatmap-images", select_heatmap_images),
    Stage("heatmaps", heatmaps),
    Stage("explain", explain),
)
