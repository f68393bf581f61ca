"""``bagnet-repro <stage> ...``: the commands the Snakemake rules call, one per pipeline stage."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .errors import UserError


def _cmd_check_config(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .config_checks import check_config_files
    project = Path(__file__).resolve().parents[2]
    schema = project / "workflow" / "schemas" / "config.schema.yaml"
    check_config_files(args.configfile, project / "config.yaml", schema)
    print(f"config OK: {', '.join(args.configfile) or 'config.yaml'} over config.yaml")


def _cmd_feature_amount_data(args: argparse.Namespace) -> None:
    from .feature_amounts.data import fetch_dataset
    record = fetch_dataset(args.dataset, args.root, args.out)
    print(f"{args.dataset}: {len(record['files'])} files in {record['root']}")


def _cmd_feature_amount_run(args: argparse.Namespace) -> None:
    import torch

    from .feature_amounts.study import run_variant
    from .training.finetune import TrainSettings
    torch.set_num_threads(args.threads)
    settings = TrainSettings(**_settings_values(args))
    print(json.dumps(run_variant(args.dataset, args.data, args.depth, args.variant, settings, args.metrics,
                                 args.history, args.checkpoint)))


def _cmd_feature_amount_table(args: argparse.Namespace) -> None:
    from .feature_amounts.study import write_table
    rows = write_table(args.metrics, args.out)
    print(f"{len(rows)} runs in {args.out}")


def _cmd_backbone_table(args: argparse.Namespace) -> None:
    import torch

    from .complexity.backbone_table import write_backbone_table
    from .device import resolve_device
    torch.set_num_threads(args.threads)
    table = write_backbone_table(args.names, args.csv, args.md, args.tex, resolve_device(args.device),
                                 args.latency_batches, args.repeats)
    print(table.drop(columns=["device"]).to_string(index=False))


def _cmd_paper_values(args: argparse.Namespace) -> None:
    from .paper.provenance import provenance
    from .paper.settings import settings_values
    from .paper.values import collect_values, write_values
    config, files = json.loads(args.config), dict(args.file)
    required = {"figure1", "table1", "mcnemar", "scramble_sweep", "training_curves", "weight_distribution"}
    if required - set(files):
        raise UserError(f"paper-values needs --file for {', '.join(sorted(required - set(files)))}")
    values = collect_values(
        files["table1"], files["mcnemar"], args.sweep, args.precision, args.dead_layers, args.audit_summary,
        args.manifest, provenance(args.project, config, args.manifest, args.histories, args.snakemake_version),
        settings_values(config, json.loads(args.train_settings)), files,
        feature_amounts=files.get("feature_amounts_table"), backbones=files.get("backbones"))
    write_values(values, args.out)
    print(f"{args.out}: {len(values)} groups of values; provenance {values['provenance']['commit']}")


def _cmd_paper(args: argparse.Namespace) -> None:
    from .paper.build import build_pdf
    build_pdf(args.template, args.values, args.out)
    print(f"{args.out}: built from {args.template}")


def _cmd_make_demo_data(args: argparse.Namespace) -> None:
    from .data.demo import make_demo_data
    make_demo_data(args.out, args.train_per_class, args.test_per_class, args.width, args.height, args.seed)


def _cmd_download(args: argparse.Namespace) -> None:
    from .data.download import download
    download(args.url, args.out, args.sha256, retries=args.retries, timeout=args.timeout, md5=args.md5 or None,
             store=args.store)


def _cmd_extract(args: argparse.Namespace) -> None:
    from .data.extract import extract_archives
    extract_archives(args.archive, args.out)


def _cmd_inventory(args: argparse.Namespace) -> None:
    from .data.inventory import build_inventory, write_records
    records = build_inventory(args.root, args.course_train_per_class, args.seed)
    write_records(records, args.out, "course_split")
    print(f"{len(records)} images listed in {args.out}")


def _cmd_split(args: argparse.Namespace) -> None:
    from collections import Counter

    from .data.inventory import read_records, write_records
    from .data.split import seeded_split, split_from_file
    inventory = read_records(args.inventory)
    if args.split_file:
        manifest = split_from_file(inventory, args.split_file)
    else:
        manifest = seeded_split(inventory, args.val_fraction, args.test_per_class, args.seed)
    write_records(manifest, args.out, "split")
    print(dict(Counter(r.split for r in manifest)))


def _cmd_audit(args: argparse.Namespace) -> None:
    from .data.audit import duplicate_pairs, write_audit
    from .data.inventory import read_records
    pairs = duplicate_pairs(read_records(args.inventory), read_records(args.manifest))
    print(json.dumps(write_audit(pairs, args.out_table, args.out_summary)))


def _weights_arg(args: argparse.Namespace) -> str | dict | None:
    """``--weights`` (a keyword, path or URL) with ``--weights-sha256`` as the dict form."""
    if args.weights in (None, "none"):
        return None
    return {"url": args.weights, "sha256": args.weights_sha256} if args.weights_sha256 else args.weights


def _cmd_fetch_weights(args: argparse.Namespace) -> None:
    from .fileio import sha256_file, write_text_atomic
    from .models.registry import fetch_weights_file
    path = fetch_weights_file(args.model, _weights_arg(args), args.weights_cache)
    record = {"model": args.model, "weights": args.weights or "none",
              "file": str(path) if path else None, "sha256": sha256_file(path) if path else None}
    write_text_atomic(args.out, json.dumps(record, indent=2) + "\n")
    print(json.dumps(record))


def _settings_values(args: argparse.Namespace) -> dict:
    """The recipe's preset with ``--options`` on top; unknown keys are refused by name."""
    import dataclasses

    from .training.finetune import TrainSettings
    from .training.recipes import recipe_values
    try:
        options = json.loads(args.options) if args.options else {}
    except json.JSONDecodeError as exc:
        raise UserError(f"--options is not a JSON object: {exc}") from None
    values = recipe_values(args.recipe, options)
    known = {f.name for f in dataclasses.fields(TrainSettings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"unknown training option(s): {', '.join(unknown)}")
    values.update(model=args.model, seed=args.seed, device=args.device)
    return values


def _cmd_train(args: argparse.Namespace) -> None:
    import torch

    from .training.finetune import TrainSettings, train
    torch.set_num_threads(args.threads)
    settings = TrainSettings(**_settings_values(args), weights=_weights_arg(args))
    print(json.dumps(train(args.manifest, settings, args.best, args.history, args.checkpoint,
                           weights_cache=args.weights_cache)))


def _cmd_pretrain(args: argparse.Namespace) -> None:
    import torch

    from .training import distributed
    from .training.pretrain import pretrain, pretrain_settings
    settings = pretrain_settings(_settings_values(args))
    ranks = distributed.init_group(settings.device)
    try:
        torch.set_num_threads(max(1, args.threads // ranks.world))
        result = pretrain(args.split, settings, ranks, args.out, args.history, args.checkpoint, workers=args.workers)
    finally:
        distributed.close_group()
    if ranks.is_main:
        print(json.dumps(result))


def _cmd_precision(args: argparse.Namespace) -> None:
    import torch

    from .evaluation.precision import run_precision
    torch.set_num_threads(args.threads)
    rows = run_precision(args.manifest, args.out_table, args.out_census, args.out_histogram,
                         checkpoint=args.checkpoint, imagenet_model=args.model, image_size=args.image_size,
                         weights_cache=args.weights_cache, max_images=args.max_images,
                         batch_size=args.batch_size, device=args.device)
    print(json.dumps(rows))


def _cmd_explain(args: argparse.Namespace) -> None:
    import torch

    from .heatmaps.explain import explain
    torch.set_num_threads(args.threads)
    records = explain(args.images, args.model, args.weights, args.out, args.classes, args.image_size,
                      args.method, args.device, args.memory_mb, args.weights_cache)
    for record in records:
        print(json.dumps(record))


def _cmd_imagenet_val(args: argparse.Namespace) -> None:
    from .data.imagenet import prepare_val
    from .fileio import write_text_atomic
    counts = prepare_val(args.val_dir, args.solution)
    write_text_atomic(args.out, json.dumps({"val_dir": args.val_dir, "classes": len(counts),
                                            "images": sum(counts.values())}, indent=2) + "\n")


def _cmd_imagenet_kaggle(args: argparse.Namespace) -> None:
    from .data.kaggle import download_imagenet
    from .fileio import write_text_atomic
    record = download_imagenet(args.root, args.competition, args.cli)
    write_text_atomic(args.out, json.dumps(record, indent=2) + "\n")


def _cmd_holdout_split(args: argparse.Namespace) -> None:
    from .data.imagenet import holdout_split
    print(json.dumps(holdout_split(args.train_dir, args.out, args.holdout, args.seed)))


def _cmd_summarize(args: argparse.Namespace) -> None:
    from .evaluation.statistics import summarize
    files = {}
    for model, seed, path in args.predictions:
        try:
            files[(model, int(seed))] = path
        except ValueError:
            raise UserError(f"--predictions {model} {seed} {path}: the seed must be an integer") from None
    outputs = {"table1": args.table1, "mcnemar": args.mcnemar, "per_class": args.per_class,
               "confusion": args.confusion, "sweep": args.sweep}
    print(json.dumps(summarize(files, outputs, args.bootstrap, args.bootstrap_seed)))


def _cmd_heatmaps(args: argparse.Namespace) -> None:
    import torch

    from .heatmaps.selection import compute_heatmaps
    torch.set_num_threads(args.threads)
    print(json.dumps(compute_heatmaps(args.checkpoints, args.selection, args.out, args.scramble_grid,
                                      args.scramble_seed, args.device, args.memory_mb)))


def _cmd_select_heatmap_images(args: argparse.Namespace) -> None:
    from .heatmaps.selection import write_selection
    print(json.dumps(write_selection(args.predictions, args.count, args.images, args.out)))


def _cmd_evaluate(args: argparse.Namespace) -> None:
    import torch

    from .evaluation.evaluate import evaluate
    torch.set_num_threads(args.threads)
    print(json.dumps(evaluate(args.checkpoint, args.manifest, args.metrics, args.predictions,
                              args.scramble_grid, args.scramble_seed, args.batch_size, args.device,
                              tuple(args.sweep_grids))))


def _cmd_receptive_fields(args: argparse.Namespace) -> None:
    from .receptive.tables import write_receptive_fields
    write_receptive_fields(args.models, args.image_size, args.measure_size, args.layers, args.summary)


def _count(minimum: int):
    """argparse type: an integer of at least ``minimum`` (the message names the value)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value
    return parse


def _fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return value


_POSITIVE, _NON_NEGATIVE = _count(1), _count(0)


def _add_weights_file_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights-sha256", default=None, help="expected sha256 (or prefix) of a path/URL")
    p.add_argument("--weights-cache", default=None, help="default $BAGNET_REPRO_CACHE or ~/.cache/bagnet-repro")


def _add_device_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", required=True, help="auto, cpu or cuda[:N]")
    p.add_argument("--threads", type=_POSITIVE, required=True, help="CPU threads for torch")


# The rules pass every option of the stage commands explicitly; their values and defaults live in
# config.yaml and workflow/schemas/config.schema.yaml alone, so these options are required here.
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bagnet-repro", description=__doc__)
    sub = parser.add_subparsers(dest="stage", required=True)

    p = sub.add_parser("make-demo-data", help="write the synthetic 15-class demo dataset")
    p.add_argument("--out", required=True)
    p.add_argument("--train-per-class", type=_count(2), required=True)
    p.add_argument("--test-per-class", type=_POSITIVE, required=True)
    p.add_argument("--width", type=_count(16), required=True)
    p.add_argument("--height", type=_count(16), required=True)
    p.add_argument("--seed", type=_NON_NEGATIVE, required=True)
    p.set_defaults(func=_cmd_make_demo_data)

    p = sub.add_parser("check-config", help="check config files (YAML syntax with line, schema, cross-key rules) "
                       "as the workflow would merge them over config.yaml")
    p.add_argument("configfile", nargs="*", help="files given to snakemake --configfile, in order")
    p.set_defaults(func=_cmd_check_config)

    p = sub.add_parser("feature-amount-data", help="download a torchvision data set once into a cache, "
                       "recording its files' sha256 (seed 001's study)")
    p.add_argument("--dataset", required=True)
    p.add_argument("--root", required=True, help="the cache folder torchvision downloads into")
    p.add_argument("--out", required=True, help="JSON record of the files (the runs' data key)")
    p.set_defaults(func=_cmd_feature_amount_data)

    p = sub.add_parser("feature-amount-run", help="train one variant of the feature-amount study")
    p.add_argument("--dataset", required=True, help="cifar10, cifar100, mnist, fashionmnist, kmnist or scene15")
    p.add_argument("--data", required=True, help="the data record (torchvision sets) or the manifest (scene15)")
    p.add_argument("--depth", type=_count(10), required=True)
    p.add_argument("--variant", required=True, help="a model id of the family, or uniform")
    p.add_argument("--metrics", required=True)
    p.add_argument("--history", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--model", default="feature_amounts", help=argparse.SUPPRESS)
    p.add_argument("--recipe", required=True, help="feature_amounts (training/recipes.py) or another preset")
    p.add_argument("--options", default=None, help="JSON object of TrainSettings values that override the recipe")
    p.add_argument("--seed", type=_NON_NEGATIVE, required=True)
    _add_device_options(p)
    p.set_defaults(func=_cmd_feature_amount_run)

    p = sub.add_parser("feature-amount-table", help="the study's table from its runs' metrics")
    p.add_argument("--metrics", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_feature_amount_table)

    p = sub.add_parser("backbone-table", help="seed 003's params/FLOPs table with forward latency, as csv/md/tex")
    p.add_argument("--names", nargs="+", required=True, help="backbone names (bagnet_repro.catalog.BACKBONE_NAMES)")
    p.add_argument("--csv", required=True)
    p.add_argument("--md", required=True)
    p.add_argument("--tex", required=True)
    p.add_argument("--latency-batches", type=_POSITIVE, nargs="+", required=True)
    p.add_argument("--repeats", type=_POSITIVE, required=True, help="timed passes per batch size (median)")
    _add_device_options(p)
    p.set_defaults(func=_cmd_backbone_table)

    p = sub.add_parser("paper-values", help="the named values the report quotes, with the run's provenance")
    p.add_argument("--file", nargs=2, action="append", metavar=("NAME", "PATH"), required=True,
                   help="a table or figure the report includes, by name")
    p.add_argument("--sweep", required=True)
    p.add_argument("--precision", required=True)
    p.add_argument("--dead-layers", required=True)
    p.add_argument("--audit-summary", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--histories", nargs="+", required=True)
    p.add_argument("--config", required=True, help="the resolved config as JSON")
    p.add_argument("--train-settings", required=True, help="the resolved training settings as JSON")
    p.add_argument("--project", required=True, help="the workflow's folder (its git commit is recorded)")
    p.add_argument("--snakemake-version", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_paper_values)

    p = sub.add_parser("paper", help="compile the report (Typst) into a PDF")
    p.add_argument("--template", required=True)
    p.add_argument("--values", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_paper)

    p = sub.add_parser("download", help="download a file, verify its sha256, then move it into place")
    p.add_argument("--url", required=True)
    p.add_argument("--sha256", required=True, help="expected digest; an empty string skips the check")
    p.add_argument("--md5", default="", help="expected md5, for archives published with one only")
    p.add_argument("--out", required=True)
    p.add_argument("--retries", type=_POSITIVE, required=True)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds without data before a retry")
    p.add_argument("--store", help="folder that keeps each verified download (and its .part) across reruns")
    p.set_defaults(func=_cmd_download)

    p = sub.add_parser("extract", help="safely extract one or more archives into a directory")
    p.add_argument("--archive", action="append", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_extract)

    p = sub.add_parser("inventory", help="list the images of a 15-scene copy with their sha256")
    p.add_argument("--root", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--course-train-per-class", type=_count(2), required=True)
    p.add_argument("--seed", type=_NON_NEGATIVE, required=True)
    p.set_defaults(func=_cmd_inventory)

    p = sub.add_parser("split", help="draw (or read) the train/val/test split and write the manifest")
    p.add_argument("--inventory", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--split-file")
    p.add_argument("--val-fraction", type=_fraction, required=True)
    p.add_argument("--test-per-class", type=_POSITIVE, required=True)
    p.add_argument("--seed", type=_NON_NEGATIVE, required=True)
    p.set_defaults(func=_cmd_split)

    p = sub.add_parser("audit", help="report byte-identical images within and across splits")
    p.add_argument("--inventory", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--out-table", required=True)
    p.add_argument("--out-summary", required=True)
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("fetch-weights", help="download and verify a model's pretrained weights into the cache")
    p.add_argument("--model", required=True)
    p.add_argument("--weights", required=True, help="imagenet, pytorchcv, torchvision, or a path/URL")
    _add_weights_file_options(p)
    p.add_argument("--out", required=True, help="JSON record of the file and its sha256")
    p.set_defaults(func=_cmd_fetch_weights)

    p = sub.add_parser("train", help="fine-tune one model and keep its best-validation weights")
    p.add_argument("--manifest", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--best", required=True)
    p.add_argument("--history", required=True)
    p.add_argument("--checkpoint", required=True, help="per-epoch resume checkpoint (kept on failure)")
    p.add_argument("--recipe", required=True, help="report, modern or bagnets_v2 (training/recipes.py)")
    p.add_argument("--options", default=None, help="JSON object of TrainSettings values that override the recipe")
    p.add_argument("--weights", default=None, help="none, imagenet, pytorchcv, torchvision, or a path/URL")
    _add_weights_file_options(p)
    p.add_argument("--seed", type=_NON_NEGATIVE, required=True)
    _add_device_options(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("pretrain", help="pretrain a network on ImageNet/Imagenette (launch with torchrun for DDP)")
    p.add_argument("--split", required=True, help="TSV from holdout-split: split (train|val), class, path")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True, help="best weights, loadable as a weights file for fine-tuning")
    p.add_argument("--history", required=True)
    p.add_argument("--checkpoint", required=True, help="per-epoch resume checkpoint (kept on failure)")
    p.add_argument("--recipe", required=True, help="report, modern or bagnets_v2")
    p.add_argument("--options", default=None, help="JSON object of TrainSettings values; batch_size is global")
    p.add_argument("--seed", type=_NON_NEGATIVE, required=True)
    p.add_argument("--workers", type=_NON_NEGATIVE, required=True, help="data-loading worker processes per rank")
    _add_device_options(p)
    p.set_defaults(func=_cmd_pretrain)

    p = sub.add_parser("evaluate", help="accuracy on val, test and 16-piece scrambled test")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--predictions", required=True)
    p.add_argument("--scramble-grid", type=_POSITIVE, required=True)
    p.add_argument("--sweep-grids", type=_POSITIVE, nargs="*", required=True, help="grids of the scrambling sweep")
    p.add_argument("--scramble-seed", type=_NON_NEGATIVE, required=True)
    p.add_argument("--batch-size", type=_POSITIVE, required=True)
    _add_device_options(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("precision", help="fp32/tf32/bf16/fp16 accuracy and logit drift; dead-layer census")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a trained model (best.pt)")
    source.add_argument("--model", help="an original BagNet, evaluated with its ImageNet weights")
    p.add_argument("--weights-cache", default=None)
    p.add_argument("--image-size", type=_POSITIVE, default=224, help="input size for --model (ImageNet's 224)")
    p.add_argument("--manifest", required=True)
    p.add_argument("--out-table", required=True)
    p.add_argument("--out-census", required=True)
    p.add_argument("--out-histogram", required=True)
    p.add_argument("--max-images", type=_POSITIVE, default=None, help="first N test images only (default all)")
    p.add_argument("--batch-size", type=_POSITIVE, required=True)
    _add_device_options(p)
    p.set_defaults(func=_cmd_precision)

    p = sub.add_parser("imagenet-val", help="move ImageNet validation images into one folder per WNID")
    p.add_argument("--val-dir", required=True, help="the flat folder of <ImageId>.JPEG files")
    p.add_argument("--solution", required=True, help="LOC_val_solution.csv")
    p.add_argument("--out", required=True, help="JSON record written when done")
    p.set_defaults(func=_cmd_imagenet_val)

    p = sub.add_parser("imagenet-kaggle", help="download ImageNet from Kaggle into the Kaggle layout")
    p.add_argument("--root", required=True, help="where ILSVRC/ and LOC_val_solution.csv go")
    p.add_argument("--out", required=True, help="JSON record written when done")
    p.add_argument("--competition", default="imagenet-object-localization-challenge")
    p.add_argument("--cli", default="kaggle", help="the kaggle executable")
    p.set_defaults(func=_cmd_imagenet_kaggle)

    p = sub.add_parser("holdout-split", help="stratified train/hold-out split of <dir>/<class>/ images")
    p.add_argument("--train-dir", required=True)
    p.add_argument("--out", required=True, help="TSV: split (train|val), class, path")
    p.add_argument("--holdout", type=_fraction, required=True)
    p.add_argument("--seed", type=_NON_NEGATIVE, required=True)
    p.set_defaults(func=_cmd_holdout_split)

    p = sub.add_parser("summarize", help="Table 1 with bootstrap CIs, McNemar tests, per-class metrics, sweep")
    p.add_argument("--predictions", nargs=3, action="append", required=True, metavar=("MODEL", "SEED", "TSV"),
                   help="one evaluated run: its model, seed and predictions file (repeat per run)")
    for name in ("table1", "mcnemar", "per-class", "confusion", "sweep"):
        p.add_argument(f"--{name}", required=True, help=f"output CSV: {name.replace('-', ' ')}")
    p.add_argument("--bootstrap", type=_POSITIVE, default=2000, help="bootstrap draws")
    p.add_argument("--bootstrap-seed", type=_NON_NEGATIVE, default=0)
    p.set_defaults(func=_cmd_summarize)

    p = sub.add_parser("select-heatmap-images", help="choose the test images of Figures 2-4")
    p.add_argument("--predictions", required=True, help="predictions TSV of the model that picks the images")
    p.add_argument("--count", type=_POSITIVE, required=True, help="images to pick when --images is not given")
    p.add_argument("--images", nargs="*", default=[], help="test image file names to draw")
    p.add_argument("--out", required=True, help="TSV of the chosen images (path, label, sha256)")
    p.set_defaults(func=_cmd_select_heatmap_images)

    p = sub.add_parser("heatmaps", help="stride-1 patch heatmaps of chosen test images (Figures 2-4)")
    p.add_argument("--checkpoints", nargs="+", required=True, help="best.pt of each original BagNet")
    p.add_argument("--selection", required=True, help="the chosen images (select-heatmap-images)")
    p.add_argument("--out", required=True, help=".npz with images, heatmaps and logits")
    p.add_argument("--scramble-grid", type=_POSITIVE, required=True)
    p.add_argument("--scramble-seed", type=_NON_NEGATIVE, required=True)
    p.add_argument("--memory-mb", type=float, required=True, help="activation budget of one dense band")
    _add_device_options(p)
    p.set_defaults(func=_cmd_heatmaps)

    p = sub.add_parser("explain", help="heatmaps of your own images (any size): overlay figure and logit arrays")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--model", default="bagnet33",
                   help="bagnet9|17|33 (exact heatmaps), or *_v2 with --method upsampled")
    p.add_argument("--weights", default="imagenet",
                   help="imagenet, a state-dict path/URL (e.g. BagNets-v2's), or a best.pt of this pipeline")
    p.add_argument("--classes", type=_POSITIVE, default=3, help="the K most likely classes to draw")
    p.add_argument("--out", default="explained", help="folder for <image>.pdf/.png/.npz")
    p.add_argument("--image-size", type=_count(9), default=None, help="resize to N x N first (default: as is)")
    p.add_argument("--method", default="fast", help="fast (exact, default), reference (patch cropping) or upsampled")
    p.add_argument("--memory-mb", type=float, default=2048, help="activation budget of one dense band")
    p.add_argument("--weights-cache", default=None, help="default $BAGNET_REPRO_CACHE or ~/.cache/bagnet-repro")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--threads", type=_POSITIVE, default=os.cpu_count() or 1, help="CPU threads for torch")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("receptive-fields", help="per-layer receptive fields (Figure 1) and a per-model summary")
    p.add_argument("--models", nargs="+", required=True)
    p.add_argument("--image-size", type=_POSITIVE, required=True)
    p.add_argument("--measure-size", type=_count(40), required=True, help="input size of the gradient measurement")
    p.add_argument("--layers", required=True)
    p.add_argument("--summary", required=True)
    p.set_defaults(func=_cmd_receptive_fields)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the write errors the package knows are UserErrors; this is the last net
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as exc:  # torch's errors (out of memory among them); BAGNET_REPRO_TRACEBACK=1 shows them
        if os.environ.get("BAGNET_REPRO_TRACEBACK"):
            raise
        print(f"error: {_runtime_error_line(exc)}", file=sys.stderr)
        return 1
    return 0


def _runtime_error_line(exc: RuntimeError) -> str:
    """One line for a RuntimeError: out of memory says what to lower, anything else points at the traceback."""
    from .memory import is_out_of_memory

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if is_out_of_memory(exc):
        return (f"out of memory ({first}); lower the image size, the batch size or --memory-mb, or use a "
                "device with more memory")
    return f"{first} (a {type(exc).__name__}; rerun with BAGNET_REPRO_TRACEBACK=1 for the traceback)"


if __name__ == "__main__":
    sys.exit(main())
