"""Fitting the per-field confidence maps (`pipeline.extract.calibration`) on scored dev runs.

Each scored field whose value the model wrote is one observation: (raw confidence, right?).
A list entry scored as a whole ("items[0]") counts at its least sure part. Per field, an
isotonic regression (scikit-learn) gives the monotone map; fields with too few observations
get none and keep their raw confidence.

A map fitted on the very documents it is judged on flatters itself, so the eval also reports
the straight-through curve cross-fitted: each half of the dev split judged by maps fitted on
the other half.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pipeline.extract.calibration import as_maps, calibrate, field_of, raw_of
from pipeline.extract.provenance import FieldEvidence

MIN_VALUES = 12  # fewer observations of a field than this: no map, raw confidence stays
FOLDS = 2

Observations = dict[str, list[tuple[float, bool]]]
# One scored document: the values the answer wrote, and which labelled paths were right.
Judged = tuple[list[FieldEvidence], dict[str, bool]]


def observations(judged: list[Judged]) -> Observations:
    """field → [(raw confidence, right)] over the written values the labels score."""
    out: Observations = defaultdict(list)
    for fields, correct in judged:
        for path, right in correct.items():
            parts = [raw_of(f) for f in fields if f.value is not None and (
                f.path == path or f.path.startswith((path + ".", path + "[")))]
            if parts:
                out[field_of(path)].append((min(parts), right))
    return dict(out)


def fit(found: Observations) -> dict[str, dict[str, Any]]:
    """Per field with enough observations: the isotonic map's corners, in manifest form."""
    from sklearn.isotonic import IsotonicRegression

    maps = {}
    for name, pairs in sorted(found.items()):
        if len(pairs) < MIN_VALUES:
            continue
        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        model.fit([x for x, _ in pairs], [float(ok) for _, ok in pairs])
        maps[name] = {"raw": [round(float(x), 4) for x in model.X_thresholds_],
                      "calibrated": [round(float(y), 4) for y in model.y_thresholds_],
                      "values": len(pairs),
                      "accuracy": round(sum(ok for _, ok in pairs) / len(pairs), 4)}
    return maps


def cross_fitted(judged: list[Judged]) -> list[list[FieldEvidence]]:
    """Each document's fields calibrated by maps fitted on the other folds only."""
    fold_of = [n % FOLDS for n in range(len(judged))]
    maps = [as_maps(fit(observations([j for j, f in zip(judged, fold_of, strict=True)
                                       if f != fold])))
            for fold in range(FOLDS)]
    return [calibrate(fields, maps[f])
            for (fields, _), f in zip(judged, fold_of, strict=True)]
