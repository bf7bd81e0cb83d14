"""Field provenance and confidence: value spans in the answer, located in the document."""

from __future__ import annotations

import json

from pipeline.document import BBox, Document, Line, Page
from pipeline.extract.provenance import confidences, evidence, locate, value_spans


def _doc() -> Document:
    return Document(converter="test", mime_type="image/png", pages=[
        Page(number=1, lines=[
            Line(text="KOPI KAKI CAFE", bbox=BBox(x0=10, y0=5, x1=200, y1=25)),
            Line(text="12 Jalan Telawi 3,", bbox=BBox(x0=10, y0=30, x1=180, y1=45)),
            Line(text="Bangsar", bbox=BBox(x0=10, y0=50, x1=90, y1=65)),
        ]),
        Page(number=2, lines=[
            Line(text="TOTAL RM 60.30", bbox=BBox(x0=10, y0=700, x1=220, y1=720)),
        ]),
    ])


def test_value_spans_cover_nested_values_in_answer_order() -> None:
    answer = json.dumps({"a": "x, y", "items": [{"b": "1.50", "c": None}], "d": []})
    spans = value_spans(answer)
    assert [s.path for s in spans] == ["a", "items[0].b", "items[0].c"]
    assert [answer[s.start:s.end] for s in spans] == ['"x, y"', '"1.50"', "null"]


def test_a_truncated_answer_keeps_its_complete_values() -> None:
    spans = value_spans('{"merchant_name": "KOPI", "total": "60.3')
    assert [s.path for s in spans] == ["merchant_name"]


def test_confidence_is_the_weakest_token_of_the_value() -> None:
    answer = '{"t": "60.30"}'
    tokens = ['{"', 't', '":', ' "', '60', '.', '30', '"}']
    logprobs = [0.0, 0.0, 0.0, -0.1, -0.05, -2.0, -0.01, -0.2]
    scores = confidences(answer, tokens, logprobs, value_spans(answer))
    assert abs(scores["t"] - 0.1353) < 1e-3  # exp(-2.0): the unsure '.'


def test_locate_exact_then_case_then_across_lines() -> None:
    text = _doc().text()
    assert locate("KOPI KAKI CAFE", text) == (0, 14)
    assert locate("kopi kaki cafe", text) == (0, 14)
    start, end = locate("12 Jalan Telawi 3, Bangsar", text) or (0, 0)
    assert text[start:end] == "12 Jalan Telawi 3,\nBangsar"
    assert locate("2019-01-01", text) is None


def test_evidence_maps_values_to_page_boxes_and_span() -> None:
    doc = _doc()
    answer = json.dumps({"merchant_address": "12 Jalan Telawi 3, Bangsar", "total": "60.30",
                         "tax": None})
    tokens = [answer]  # one token: every value gets its probability
    fields = {f.path: f for f in evidence(doc, answer, tokens, [-0.5])}
    address = fields["merchant_address"]
    assert address.page == 1 and len(address.bboxes) == 2 and address.bboxes[1].y0 == 50
    assert doc.text()[address.char_start:address.char_end].startswith("12 Jalan")
    total = fields["total"]
    assert total.page == 2 and total.bboxes[0].y0 == 700
    assert fields["tax"].value is None and fields["tax"].page is None
    assert all(0 < f.confidence <= 1 for f in fields.values())


def test_a_short_value_is_found_as_a_word_near_its_siblings() -> None:
    text = "Kopi Kaki Sdn Bhd (1187734-K)\nFlat White\n2 x 12.00   24.00\nNasi Lemak\n1 x 15.90"
    # "1" is not the 1 of the company number: whole words first…
    start, _ = locate("1", text) or (0, 0)
    assert text[start:start + 9] == "1 x 15.90"
    # …and a quantity is read on its own item's line, not the first "2" of the text.
    answer = json.dumps({"items": [{"description": "Nasi Lemak", "quantity": "1"},
                                   {"description": "Flat White", "quantity": "2"}]})
    doc = Document(converter="test", mime_type="text/plain", pages=[Page(number=1, lines=[
        Line(text=line, bbox=BBox(x0=0, y0=10 * n, x1=100, y1=10 * n + 8))
        for n, line in enumerate(text.split("\n"))])])
    fields = {f.path: f for f in evidence(doc, answer, [answer], [-0.1])}
    assert fields["items[0].quantity"].bboxes[0].y0 == 40  # "1 x 15.90"
    assert fields["items[1].quantity"].bboxes[0].y0 == 20  # "2 x 12.00"
