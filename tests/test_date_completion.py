"""A date the model copied without its year (the line broke there) takes the year the document
prints right after it, and only then; a date with no year is never dated by the clock."""

from __future__ import annotations

import datetime as dt
import json

from pipeline import doctypes
from pipeline.doctypes.contract.schema import CLAUSES
from pipeline.document import BBox, Document, Line, Page
from pipeline.extract.completion import complete_dates
from pipeline.extract.provenance import evidence
from pipeline.extract.validation import validate
from schemas.common import parse_date


def nda(second_line: str) -> Document:
    return Document(converter="test", mime_type="application/pdf", pages=[Page(number=1, lines=[
        Line(text="This Agreement is made as of this 16th day of August",
             bbox=BBox(x0=10, y0=10, x1=400, y1=25)),
        Line(text=second_line, bbox=BBox(x0=10, y0=30, x1=400, y1=45)),
    ])])


def answer(date: str) -> str:
    return json.dumps({"title": None,
                       "parties": [{"name": "CafePress Inc.", "role": None, "aliases": []},
                                   {"name": "__________", "role": None, "aliases": []}],
                       "agreement_date": None, "effective_date": date,
                       "expiration_date": None, "term": None, "renewal_term": None,
                       "renewal_notice": None, "jurisdiction": None,
                       "termination_notice": None, "signatories": [],
                       "clauses": {name: None for name in CLAUSES}})


def extract_offline(document: Document, text: str) -> tuple[dict, list]:
    """What `extract()` does after decoding, on a given answer."""
    contract = doctypes.get("contract")
    fields = evidence(document, text, [text], [0.0])
    raw = json.loads(text)
    complete_dates(raw, fields, document, contract.date_fields)
    record, violations = validate(contract, raw, truncated=False)
    assert record is not None
    return record.model_dump(mode="json"), fields


def test_parse_date_does_not_invent_a_year() -> None:
    assert parse_date("16th day of August") is None
    assert parse_date("12/03") is None
    assert parse_date("16th day of August 2018") == dt.date(2018, 8, 16)
    assert parse_date("29 February 2024") == dt.date(2024, 2, 29)


def test_the_year_on_the_next_line_completes_the_copied_date() -> None:
    document = nda("2018, between CafePress Inc. and the Recipient")
    record, fields = extract_offline(document, answer("16th day of August"))
    assert record["effective_date"] == "2018-08-16"
    assert record["effective_date_text"] == "16th day of August 2018"
    date = next(f for f in fields if f.path == "effective_date")
    assert date.value == "16th day of August 2018"
    assert len(date.bboxes) == 2  # both lines: the words and their year
    # the blank signature line is no party
    assert [p["name"] for p in record["parties"]] == ["CafePress Inc."]


def test_no_year_next_to_it_leaves_the_date_invalid() -> None:
    document = nda("between CafePress Inc. and the Recipient, signed 2018")
    record, _ = extract_offline(document, answer("16th day of August"))
    assert record["effective_date"] is None
    contract = doctypes.get("contract")
    rules = {v.rule for v in contract.check_rules(contract.record_model.model_validate(record))}
    assert "effective_date_invalid" in rules
