"""The data stage: demo data, verified download, safe extraction, inventory, split and duplicate audit."""

from __future__ import annotations

import argparse
import json

from ..errors import UserError
from .arguments import NON_NEGATIVE, POSITIVE, count, fraction

# The data set's kinds (config data.source: demo, url and local are the 15-scene layouts; folder is the user's own).
LAYOUTS = ("scene15", "folder")
LAYOUT_HELP = "scene15: the 15-scene layouts (or the demo); folder: one sub-folder per class, pre-split or one pool"


def _make_demo_data(args: argparse.Namespace) -> None:
    from ..data.demo import make_demo_data

    make_demo_data(
        out=args.out,
        train_per_class=args.train_per_class,
        test_per_class=args.test_per_class,
        width=args.width,
        height=args.height,
        seed=args.seed,
    )


def _download(args: argparse.Namespace) -> None:
    from ..data.download import download

    download(
        url=args.url,
        dest=args.out,
        sha256=args.sha256,
        retries=args.retries,
        timeout=args.timeout,
        md5=args.md5 or None,
        store=args.store,
    )


def _extract(args: argparse.Namespace) -> None:
    from ..data.extract import extract_archives

    extract_archives(archives=args.archive, dest=args.out)


def _inventory(args: argparse.Namespace) -> None:
    from ..data.folder import folder_inventory
    from ..data.inventory import build_inventory, write_records

    if args.layout == "folder":
        records = folder_inventory(args.root)
    else:
        records = build_inventory(root=args.root, course_train_per_class=args.course_train_per_class, seed=args.seed)
    write_records(records, path=args.out, split_column="course_split" if args.layout == "scene15" else "folder_split")
    print(f"{len(records)} images listed in {args.out}")


def _split(args: argparse.Namespace) -> None:
    from collections import Counter

    from ..data.inventory import read_records, write_records
    from ..data.split import folder_split, seeded_split, split_from_file

    inventory = read_records(args.inventory)
    if args.layout == "folder":
        if args.test_fraction is None:
            raise UserError("split --layout folder needs --test-fraction (config split.test_fraction)")
        if args.split_file:
            raise UserError("data.split_file lists the 15-scene report's images; a folder data set is split by its own")
        manifest = folder_split(
            inventory, val_fraction=args.val_fraction, test_fraction=args.test_fraction, seed=args.seed
        )
    elif args.split_file:
        manifest = split_from_file(inventory, split_file=args.split_file)
    else:
        manifest = seeded_split(
            inventory, val_fraction=args.val_fraction, test_per_class=args.test_per_class, seed=args.seed
        )
    write_records(manifest, path=args.out, split_column="split")
    print(dict(Counter(r.split for r in manifest)))


def _audit(args: argparse.Namespace) -> None:
    from ..data.audit import duplicate_pairs, write_audit
    from ..data.inventory import read_records

    pairs = duplicate_pairs(inventory=read_records(args.inventory), manifest=read_records(args.manifest))
    print(json.dumps(write_audit(pairs, table_path=args.out_table, summary_path=args.out_summary)))


def register(subparsers) -> None:
    p = subparsers.add_parser("make-demo-data", help="write the synthetic 15-class demo dataset")
    p.add_argument("--out", required=True)
    p.add_argument("--train-per-class", type=count(2), required=True)
    p.add_argument("--test-per-class", type=POSITIVE, required=True)
    p.add_argument("--width", type=count(16), required=True)
    p.add_argument("--height", type=count(16), required=True)
    p.add_argument("--seed", type=NON_NEGATIVE, required=True)
    p.set_defaults(func=_make_demo_data)

    p = subparsers.add_parser("download", help="download a file, verify its sha256, then move it into place")
    p.add_argument("--url", required=True)
    p.add_argument("--sha256", required=True, help="expected digest; an empty string skips the check")
    p.add_argument("--md5", default="", help="expected md5, for archives published with one only")
    p.add_argument("--out", required=True)
    p.add_argument("--retries", type=POSITIVE, required=True)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds without data before a retry")
    p.add_argument("--store", help="folder that keeps each verified download (and its .part) across reruns")
    p.set_defaults(func=_download)

    p = subparsers.add_parser("extract", help="safely extract one or more archives into a directory")
    p.add_argument("--archive", action="append", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_extract)

    p = subparsers.add_parser("inventory", help="list the images of the data set with their sha256")
    p.add_argument("--root", required=True)
    p.add_argument("--layout", choices=LAYOUTS, default="scene15", help=LAYOUT_HELP)
    p.add_argument("--out", required=True)
    p.add_argument("--course-train-per-class", type=count(2), required=True)
    p.add_argument("--seed", type=NON_NEGATIVE, required=True)
    p.set_defaults(func=_inventory)

    p = subparsers.add_parser("split", help="draw (or read) the train/val/test split and write the manifest")
    p.add_argument("--inventory", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--split-file")
    p.add_argument("--val-fraction", type=fraction, required=True)
    p.add_argument("--test-per-class", type=POSITIVE, required=True, help="15-scene: test images per class")
    p.add_argument("--test-fraction", type=fraction, help="folder pool: the share of each class tested")
    p.add_argument("--layout", choices=LAYOUTS, default="scene15", help=LAYOUT_HELP)
    p.add_argument("--seed", type=NON_NEGATIVE, required=True)
    p.set_defaults(func=_split)

    p = subparsers.add_parser("audit", help="report byte-identical images within and across splits")
    p.add_argument("--inventory", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--out-table", required=True)
    p.add_argument("--out-summary", required=True)
    p.set_defaults(func=_audit)
