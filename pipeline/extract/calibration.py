"""Per-field calibration: the model's raw confidence → how often such a value was right.

The raw confidence (the lowest token probability of a value) ranks values well but is no
probability: a receipt total written at 0.6 may be right nine times in ten, an address at 0.9
half the time. `docket eval` fits, per field of a type, a monotone (isotonic) map from raw
confidence to the share of dev values that were right, and keeps its breakpoints in the
adapter's manifest (`calibration`). At run time a value's confidence is read off its field's
map, so `DOCKET_CONFIDENCE_THRESHOLD` means the same for every field; the raw figure stays
beside it (`raw_confidence`). A field without a map keeps its raw confidence.

Fields are named by their path without list indices ("items.amount"); a list entry scored as a
whole ("items") lends its map to its parts.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from pipeline.extract.provenance import FieldEvidence

# field → (raw confidences, calibrated confidences): an increasing step function's corners
Calibration = dict[str, tuple[list[float], list[float]]]

_INDEX = re.compile(r"\[\d+\]")


def field_of(path: str) -> str:
    """'items[2].amount' → 'items.amount'."""
    return _INDEX.sub("", path)


def map_for(calibration: Calibration, path: str) -> tuple[list[float], list[float]] | None:
    """The map of the value's field, or of the nearest list entry it belongs to."""
    name = field_of(path)
    while name:
        if name in calibration:
            return calibration[name]
        name = name.rpartition(".")[0]
    return None


def interpolate(x: float, xs: list[float], ys: list[float]) -> float:
    """Linear between the corners, flat beyond them (as isotonic regression predicts)."""
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    i = bisect_right(xs, x)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def raw_of(item: FieldEvidence) -> float:
    """The model's own confidence, whether or not the value was calibrated already."""
    return item.raw_confidence if item.raw_confidence is not None else item.confidence


def calibrate(fields: list[FieldEvidence], calibration: Calibration) -> list[FieldEvidence]:
    """The same values with calibrated confidences, each raw one kept as `raw_confidence`."""
    out = []
    for item in fields:
        raw = raw_of(item)
        corners = map_for(calibration, item.path)
        confidence = raw if corners is None else round(interpolate(raw, *corners), 4)
        out.append(item.model_copy(update={"confidence": confidence, "raw_confidence": raw}))
    return out


def as_maps(fields: dict[str, dict[str, Any]]) -> Calibration:
    """Maps from their manifest form ({field: {"raw": [...], "calibrated": [...], ...}})."""
    return {name: (spec["raw"], spec["calibrated"]) for name, spec in fields.items()}


def from_manifest(manifest: dict[str, Any]) -> Calibration:
    """The adapter manifest's `calibration.fields` as maps (empty when it has none)."""
    return as_maps(manifest.get("calibration", {}).get("fields", {}))
