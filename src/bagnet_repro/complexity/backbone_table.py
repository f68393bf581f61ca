"""The vision-backbones table (Thien Tran's vision-toolbox README): backbone parameters and FLOPs at
1x3x224x224 beside the vision-toolbox README's published values.

Parameters are the backbone's alone (no pooling or classifier), as the seed counts them. Latency is
measured where the job runs and named by its device, so tables from two machines are never mixed up.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from ..compute.device import describe_device
from ..config.catalog import BACKBONE_NAMES
from ..errors import UserError
from ..files.atomic import write_text_atomic
from ..models.backbones import build_backbone
from .counting import count_flops, count_parameters
from .latency import forward_latency_ms

TABLE_SIZE = 224
# The vision-toolbox README: parameters in millions and GFLOPs at (1, 3, 224, 224), per published row.
SEED_VALUES: dict[str, tuple[float, float]] = {
    "darknet53": (40.64, 14.33),
    "cspdarknet53": (26.28, 9.42),
    "vovnet39": (25.18, 15.62),
    "vovnet57": (41.45, 19.35),
    "resnet18": (11.18, 3.64),
    "resnet34": (21.28, 7.34),
    "resnet50": (23.51, 8.22),
    "resnet101": (42.50, 15.66),
    "resnet152": (58.14, 23.11),
    "resnext50_32x4d": (22.98, 8.51),
    "resnext101_32x8d": (86.74, 32.95),
    "mobilenet_v2": (2.22, 0.6),
    "mobilenet_v3_large": (2.97, 0.45),
    "mobilenet_v3_small": (0.93, 0.12),
    "efficientnet_b0": (4.01, 0.80),
    "efficientnet_b1": (6.51, 1.18),
    "efficientnet_b2": (7.70, 1.36),
    "efficientnet_b3": (10.70, 1.98),
    "efficientnet_b4": (17.55, 3.09),
    "efficientnet_b5": (28.34, 4.82),
    "efficientnet_b6": (40.74, 6.86),
    "efficientnet_b7": (63.79, 10.53),
}
# Families with squeeze-excitation gates and many element-wise operations the counter does not see.
SE_FAMILIES = ("mobilenet_v3", "efficientnet")
NOTES = (
    "Parameters: the backbone alone (no classifier), in millions. FLOPs: torch.utils.flop_counter."
    "FlopCounterMode at 1x3x224x224, counting convolutions and matrix products, 2 FLOPs per multiply-add.",
    "The counter does not see batch norm, activations, pooling, residual additions or the squeeze-excitation "
    "products; the vision-toolbox counter did. Where convolutions dominate this is under 1%; MobileNetV3 and "
    "EfficientNet (hard-swish/SiLU, SE gates and batch norm after every cheap depth-wise or 1x1 conv) come "
    "out several percent under the seed for that reason, not because the networks differ: their parameters "
    "agree (MobileNetV3-small's 0.12 is also published to two digits only).",
    "Rows without published values are not published in the vision-toolbox README.",
    "Darknet-53 and CSPDarknet-53: vision-toolbox's 40.64 M and 26.28 M were measured with a width typo in its code "
    "(258 channels instead of 256 in the third stage; its Darknet-19 config had 612 for 512 in the fourth), "
    "which gives exactly 40.64 M and 26.28 M; its author corrected the widths later, and this table uses the "
    "corrected ones, hence 0.14% fewer parameters.",
)


def _difference(ours: float, seed: float | None) -> float | None:
    return None if seed is None else 100 * (ours - seed) / seed


def backbone_row(name: str, device: torch.device, batches: list[int], repeats: int, warmup: int = 1) -> dict:
    """Counts, seed values, differences and latencies of one backbone."""
    backbone = build_backbone(name)
    params = count_parameters(backbone) / 1e6
    gflops = count_flops(backbone, (1, 3, TABLE_SIZE, TABLE_SIZE)) / 1e9
    seed_params, seed_gflops = SEED_VALUES.get(name, (None, None))
    row = {
        "backbone": name,
        "params_m": round(params, 2),
        "seed_params_m": seed_params,
        "params_diff_pct": _difference(params, seed_params),
        "gflops": round(gflops, 2),
        "seed_gflops": seed_gflops,
        "gflops_diff_pct": _difference(gflops, seed_gflops),
        "counter_misses_se": name.startswith(SE_FAMILIES),
    }
    for batch in batches:
        row[f"latency_ms_batch{batch}"] = forward_latency_ms(backbone, batch, TABLE_SIZE, device, repeats, warmup)
    return row


def _markdown(table: pd.DataFrame, device_text: str) -> str:
    shown = table.drop(columns=["counter_misses_se", "device"]).fillna("")
    notes = "\n".join(f"{index}. {note}" for index, note in enumerate(NOTES + (f"Latency: {device_text}.",), 1))
    return shown.to_markdown(index=False, floatfmt=".2f") + "\n\n" + notes + "\n"


def _latex(table: pd.DataFrame, device_text: str) -> str:
    shown = table.drop(columns=["counter_misses_se", "device"])
    body = shown.to_latex(index=False, float_format="%.2f", na_rep="--", escape=True)
    notes = " ".join(NOTES + (f"Latency: {device_text}.",)).replace("_", r"\_").replace("%", r"\%")
    return f"% {notes}\n" + body


def write_backbone_table(
    names: list[str],
    csv_path: str,
    md_path: str,
    tex_path: str,
    device: torch.device,
    batches: list[int],
    repeats: int,
    warmup: int = 1,
) -> pd.DataFrame:
    """Measure every backbone of ``names`` (in the catalog's order) and write the three tables."""
    unknown = sorted(set(names) - set(BACKBONE_NAMES))
    if unknown:
        raise UserError(f"unknown backbones {', '.join(unknown)}; choose from: {', '.join(BACKBONE_NAMES)}")
    device_text = f"median of {repeats} forward passes on {describe_device(device)}"
    rows = [
        backbone_row(name, device, batches, repeats, warmup)
        for name in tqdm([n for n in BACKBONE_NAMES if n in names], desc="backbones", unit="net")
    ]
    table = pd.DataFrame(rows)
    table["device"] = describe_device(device)
    for column in ("params_diff_pct", "gflops_diff_pct"):
        table[column] = table[column].map(lambda v: None if v is None or math.isnan(v) else round(v, 2))
    for path in (csv_path, md_path, tex_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(csv_path, table.to_csv(index=False))
    write_text_atomic(md_path, _markdown(table, device_text))
    write_text_atomic(tex_path, _latex(table, device_text))
    return table
