"""Datasheets: the rules a parts librarian checks, the Arduino set's scorer, and the
condition tables read (and taught) in passes of their own under their headings."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import pytest

from pipeline import doctypes
from pipeline.doctypes.base import json_labels, record_of
from pipeline.doctypes.datasheet import manuals, schema
from pipeline.document import Document, Line, Page
from pipeline.extract.context import context_for
from pipeline.extract.focus import answer, focus_context
from pipeline.training.targets import document_targets
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


def _long_datasheet(tables: dict[str, list[str]]) -> Document:
    """A PDF-like datasheet: specifications first, then each table under its heading with a
    cell a line (as a PDF's text layer gives them), then the company's details."""
    filler = [f"GPIO{n} | digital input or output, {n % 4 + 1} mA drive, 3.3 V logic"
              for n in range(120)]
    lines = ["Arduino® Test Board", "Product Reference Manual", "SKU: ABX00099", *filler[:80]]
    lines.append("Operating Conditions: the limits below are measured at 25 °C ambient.")
    for heading, cells in tables.items():
        lines += [heading, "Parameter", "Symbol Min Typ Max Unit", *cells]
    lines += filler[80:]
    return Document(converter="test", mime_type="application/pdf",
                    pages=[Page(number=1, lines=[Line(text=t) for t in lines])])


CONDITION_CELLS = ["Input voltage", "VIN", "6", "-", "24", "V",
                   "Operating temperature", "TOP", "-40", "25", "85", "°C"]


def test_a_condition_table_is_read_under_its_heading_and_a_missing_one_has_no_passage(
        runtime: Any) -> None:
    datasheet = doctypes.get("datasheet")
    conditions, maximum = datasheet.focused
    doc = _long_datasheet({"Recommended Operating Conditions": CONDITION_CELLS})
    passage = focus_context(doc, conditions)
    assert len(doc.text()) > 4 * conditions.context_chars >= len(passage)
    # the heading, then its rows in order: not the note that mentions operating conditions
    assert "Recommended Operating Conditions\nParameter\nSymbol Min Typ Max Unit\n" \
        + "\n".join(CONDITION_CELLS) in passage
    assert focus_context(doc, maximum) == ""
    found = answer(doc, maximum, runtime, None, {}, 1.0)
    assert (found.value, found.fields, found.passes) == ([], [], [])  # empty, no model pass


def test_training_teaches_each_table_under_its_heading_and_none_in_the_main_pass() -> None:
    datasheet = doctypes.get("datasheet")
    doc = _long_datasheet({"Recommended Operating Conditions": CONDITION_CELLS})
    row = {"parameter": "Input voltage", "symbol": "VIN", "min": "6", "typ": None, "max": "24",
           "unit": "V"}
    unseen = {"parameter": "Storage temperature", "symbol": "TST", "min": "-55", "typ": None,
              "max": "150", "unit": "°C"}
    labels = json_labels({"product_name": "Arduino® Test Board", "model_numbers": ["ABX00099"],
                          "manufacturer": None, "document_revision": None,
                          "document_revision_date": None, "microcontroller": None,
                          "operating_conditions": [row, unseen],
                          "absolute_maximum_ratings": [unseen], "specifications": [],
                          manuals.PRINTED_DATE: None})
    main_context = context_for(doc, datasheet.cues, datasheet.context_chars).text
    draft, unscored = manuals.target(labels, main_context)
    main, *focused = document_targets(datasheet, doc, "PROMPT", draft, unscored, "k",
                                      functools.partial(manuals.target, labels))
    assert main.focus is None and '"operating_conditions": []' in main.text
    assert {"operating_conditions", "absolute_maximum_ratings"} <= main.unscored
    # the passage shows one labelled row: that row is taught; no maximum-ratings heading: no pass
    assert [(t.focus, json.loads(t.text)) for t in focused] == [
        ("operating_conditions", {"operating_conditions": [row]})]


@pytest.mark.skipif(not MANUALS.is_dir(), reason="needs ../shared/datasets/manuals")
def test_the_table_passages_hold_every_labelled_condition_row_of_dev(settings: Any) -> None:
    """Measured over train and dev alike: the passages under each table's heading hold 100%
    of the labelled rows, the main 5,000-character context 61% of dev's."""
    from pipeline.training.datasets import convert_source

    datasheet = doctypes.get("datasheet")
    for source in (s for s in manuals.sources(MANUALS) if s.split == "dev"):
        document = convert_source(source, settings)
        assert document is not None
        gold = record_of(source.labels)
        for focus in datasheet.focused:
            kept, _ = manuals.target(source.labels, focus_context(document, focus))
            assert kept[focus.path] == [{k: r.get(k) for k in manuals.CONDITION_KEYS}
                                        for r in gold[focus.path]], (source.key, focus.name)
