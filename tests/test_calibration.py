"""Per-field confidence calibration: fitted on scored dev answers, applied at extraction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import doctypes
from pipeline.extract import extract
from pipeline.extract.calibration import calibrate, from_manifest, interpolate, map_for
from pipeline.extract.provenance import FieldEvidence
from pipeline.training.calibration import MIN_VALUES, Judged, cross_fitted, fit, observations

ROOT = Path(__file__).resolve().parents[1]


def _judged(confidences: dict[str, float], correct: dict[str, bool]) -> Judged:
    return ([FieldEvidence(path=path, value="x", confidence=c)
             for path, c in confidences.items()], correct)


def test_the_map_is_flat_outside_its_corners_and_linear_between() -> None:
    xs, ys = [0.2, 0.6, 0.9], [0.1, 0.5, 1.0]
    assert interpolate(0.05, xs, ys) == 0.1 and interpolate(0.95, xs, ys) == 1.0
    assert interpolate(0.4, xs, ys) == pytest.approx(0.3)


def test_a_list_entry_scored_whole_lends_its_map_to_its_parts() -> None:
    maps = {"items": ([0.0, 1.0], [0.0, 0.5]), "total": ([0.0, 1.0], [0.0, 1.0])}
    assert map_for(maps, "items[3].amount") == maps["items"]
    assert map_for(maps, "total") == maps["total"] and map_for(maps, "date") is None


def test_calibrating_keeps_the_raw_confidence_and_is_not_applied_twice() -> None:
    maps = {"total": ([0.5, 0.9], [0.2, 0.8])}
    fields = [FieldEvidence(path="total", value="9.00", confidence=0.7),
              FieldEvidence(path="date", value="2018-01-01", confidence=0.7)]
    once = calibrate(fields, maps)
    assert once[0].confidence == pytest.approx(0.5) and once[0].raw_confidence == 0.7
    assert once[1].confidence == 0.7  # no map: raw
    assert calibrate(once, maps) == once


def test_fit_learns_a_monotone_map_per_field_from_what_was_right() -> None:
    # totals written below 0.5 were wrong, above right; too few dates to fit
    scored = [_judged({"total": n / 40, "date": 0.9, "items[0].name": 0.8,
                       "items[0].amount": 0.3 + n / 100},
                      {"total": n >= 20, "date": True, "items[0]": n >= 10})
              for n in range(40)]
    scored += [_judged({"date": 0.9}, {"date": True})]
    found = observations(scored)
    assert len(found["total"]) == 40 and len(found["items"]) == 40
    # an item is as sure as its least sure part
    assert found["items"][0][0] == pytest.approx(0.3)
    fitted = fit({**found, "date": found["date"][:MIN_VALUES - 1]})
    assert set(fitted) == {"total", "items"}
    total = from_manifest({"calibration": {"fields": fitted}})["total"]
    assert interpolate(0.2, *total) == 0.0 and interpolate(0.8, *total) == 1.0
    assert total[1] == sorted(total[1])


def test_cross_fitted_confidences_come_from_the_other_half() -> None:
    # even documents: right at any confidence; odd ones: wrong at any confidence
    scored = [_judged({"total": 0.5 + n / 200}, {"total": n % 2 == 0}) for n in range(60)]
    crossed = cross_fitted(scored)
    assert {f[0].confidence for f in crossed[0::2]} == {0.0}  # judged by the odd half
    assert {f[0].confidence for f in crossed[1::2]} == {1.0}
    assert all(f[0].raw_confidence == fields[0].confidence
               for f, (fields, _) in zip(crossed, scored, strict=True))


def test_extraction_reads_confidence_off_the_adapters_maps(runtime) -> None:
    """The committed receipt adapter carries maps fitted on SROIE dev; a real extraction's
    values are judged by them, raw confidence beside."""
    from pipeline.convert import convert
    from pipeline.settings import get_settings

    manifest = json.loads((ROOT / "adapters" / "receipt" / "manifest.json").read_text())
    maps = from_manifest(manifest)
    assert maps, "the receipt adapter's manifest has no calibration (run docket eval)"
    path = ROOT / "samples" / "documents" / "receipt-cafe.png"
    document = convert(path.read_bytes(), path.name)
    result = extract(document, doctypes.get("receipt"), runtime, get_settings())
    written = [f for f in result.fields if f.value is not None]
    assert written and all(f.raw_confidence is not None for f in written)
    for item in written:
        corners = map_for(maps, item.path)
        expected = item.raw_confidence if corners is None else interpolate(
            item.raw_confidence, *corners)  # type: ignore[arg-type]
        assert item.confidence == pytest.approx(expected, abs=1e-4)
    assert any(map_for(maps, f.path) for f in written)
