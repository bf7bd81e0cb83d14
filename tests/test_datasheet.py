"""Datasheets: the rules a parts librarian checks, and the Arduino set's scorer."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from pipeline.doctypes.datasheet import manuals, schema
from tests.conftest import ROOT

MANUALS = ROOT.parent / "shared" / "datasets" / "manuals"
TODAY = dt.date(2026, 12, 4)


def _draft(**overrides: Any) -> schema.DatasheetDraft:
    values: dict[str, Any] = {
        "product_name": "Arduino® UNO R4 Minima", "model_numbers": ["ABX00080"],
        "manufacturer": "Arduino SRL", "document_revision": "3",
        "document_revision_date": "28/03/2024", "microcontroller": "RA4M1",
        "operating_conditions": [{"parameter": "Operating Temperature", "symbol": "TOP",
                                  "min": "-40", "typ": "25", "max": "85", "unit": "°C"}],
        "absolute_maximum_ratings": [],
        "specifications": [{"group": "Power", "name": "DC Current per I/O Pin", "value": "8",
                            "unit": "mA"}],
    }
    return schema.DatasheetDraft.model_validate({**values, **overrides})


def _rules(**overrides: Any) -> set[str]:
    return {v.rule for v in schema.check_rules(schema.to_record(_draft(**overrides)), TODAY)}


def test_a_consistent_datasheet_breaks_no_rule() -> None:
    record = schema.to_record(_draft())
    assert schema.check_rules(record, TODAY) == []
    assert record.document_revision_date == dt.date(2024, 3, 28)


@pytest.mark.parametrize(("overrides", "rule"), [
    ({"operating_conditions": [{"parameter": "VIN", "symbol": None, "min": "24", "typ": "7",
                                "max": "6", "unit": "V"}]}, "limits_out_of_order"),
    ({"operating_conditions": [{"parameter": "VIN", "symbol": None, "min": "6", "typ": None,
                                "max": "24", "unit": "Volts-ish"}]}, "unit_unknown"),
    ({"specifications": [{"group": None, "name": "Clock", "value": "48", "unit": "MHzz"}]},
     "unit_unknown"),
    ({"document_revision_date": "08/05//2023"}, "document_revision_date_invalid"),
    ({"product_name": None}, "product_name_missing"),
])
def test_each_broken_rule_is_named(overrides: dict[str, Any], rule: str) -> None:
    assert rule in _rules(**overrides)


@pytest.mark.parametrize("unit", ["V", "mA", "°C", "MHz", "kB", "KB", "VDC", "dBm", "Ω", "x"])
def test_units_datasheets_print_are_known(unit: str) -> None:
    assert schema.unit_known(unit)


@pytest.mark.skipif(not MANUALS.is_dir(), reason="needs ../shared/datasets/manuals")
def test_the_labels_as_a_record_score_perfectly_and_a_wrong_value_costs() -> None:
    """The labelled record, written as the model would and validated, scores 1.0 on every
    field (scorer, target and record agree); a changed SKU and an invented row cost."""
    source = next(s for s in manuals.sources(MANUALS) if s.key == "uno-r4-minima.md")
    draft, unscored = manuals.target(source.labels, source.path.read_text())
    assert unscored == set() and draft["document_revision_date"] == "28/03/2024"
    record = json.loads(schema.to_record(schema.DatasheetDraft.model_validate(draft))
                        .model_dump_json())
    assert all(manuals.score(source.labels, record).correct.values())
    record["model_numbers"] = ["ABX00081"]
    record["operating_conditions"].append({"min": "1", "typ": None, "max": "2", "unit": "V"})
    scored = manuals.score(source.labels, record)
    assert not scored.correct["model_numbers"] and not scored.correct["operating_conditions"]
    assert scored.correct["product_name"]
    summary = manuals.summarize([scored])
    assert summary["lists"]["operating_conditions"]["recall"] == 1.0
    assert summary["lists"]["operating_conditions"]["precision"] == 0.75


@pytest.mark.skipif(not MANUALS.is_dir(), reason="needs ../shared/datasets/manuals")
def test_both_forms_of_a_product_are_in_the_same_split() -> None:
    found = manuals.sources(MANUALS)
    splits: dict[str, set[str]] = {}
    for source in found:
        splits.setdefault(source.key.rsplit(".", 1)[0], set()).add(source.split)
    assert len(splits) == 48 and all(len(s) == 1 for s in splits.values())
    assert sum(s == {"dev"} for s in splits.values()) == 10


def test_markdown_table_cells_lose_inline_html() -> None:
    """A datasheet's table prints V<sub>IN</sub>; the reader sees VIN, and so does the text
    the model reads (docling leaves the tags in the cell)."""
    from pipeline.convert import convert

    table = (b"# Ratings\n\n| Symbol | Description | Min | Max | Unit |\n|---|---|---|---|---|\n"
             b"| V<sub>IN</sub> | Input<br>voltage | 6 | 24 | V |\n")
    text = convert(table, "sheet.md").text()
    assert "VIN | Input voltage | 6 | 24 | V" in text and "<sub>" not in text
