"""Tables behind the report's Figure 1: per-layer receptive fields, and theory vs gradient measurement."""

from __future__ import annotations

from torchvision.models import resnet50 as torchvision_resnet50

from ..config.networks import WHOLE_IMAGE
from ..files.atomic import write_table_atomic
from ..models import BagNet, build_model
from ..models.registry import record_of
from .fields import LAYER_COLUMNS, layer_table, measure_receptive_field

SUMMARY_COLUMNS = ("model", "theoretical_rf", "stride", "measured_rf", "measured_stride", "measure_size", "note")


def write_receptive_fields(
    models: list[str], image_size: int, measure_size: int, layers_path: str, summary_path: str
) -> None:
    """Networks with a patch-sized field (their record's ``receptive_field``: the BagNets) are measured by
    gradients (their field does not depend on the input size); the others' fields cover the whole image, so only
    their theoretical value is given."""
    layer_rows, summary_rows = [], []
    for name in models:
        record = record_of(name)  # one line for an unknown name, as build_model gives it
        model = build_model(name, 1000, head="linear")
        table = layer_table(model, image_size)
        layer_rows += [{"model": name, **row} for row in table]
        summary = {
            "model": name,
            "theoretical_rf": table[-1]["receptive_field"],
            "stride": table[-1]["jump"],
            "measured_rf": "",
            "measured_stride": "",
            "measure_size": "",
            "note": record.receptive_note,
        }
        if record.receptive_field != WHOLE_IMAGE:
            # only the BagNets' records give a patch-sized field
            assert isinstance(model, BagNet), f"{name} has a patch-sized field but is not a BagNet"
            field = measure_receptive_field(model.double().eval().features, measure_size)
            summary.update(measured_rf=field.size[0], measured_stride=field.stride[0], measure_size=measure_size)
        summary_rows.append(summary)
        print(summary, flush=True)
        if name == "resnet50" and "resnet50_torchvision" not in models:
            # The figure usually quoted (427) is torchvision's layout, which strides in the 3x3 conv.
            reference = layer_table(torchvision_resnet50(), image_size)[-1]
            summary_rows.append(
                {
                    "model": "resnet50_torchvision",
                    "theoretical_rf": reference["receptive_field"],
                    "stride": reference["jump"],
                    "measured_rf": "",
                    "measured_stride": "",
                    "measure_size": "",
                    "note": "torchvision layout (stride in the 3x3 conv), for "
                    "comparison with the commonly quoted value",
                }
            )
    write_table_atomic(layers_path, ("model",) + LAYER_COLUMNS, layer_rows)
    write_table_atomic(summary_path, SUMMARY_COLUMNS, summary_rows)
