"""A copied date completed by the year the document prints right after it.

Contracts break "made as of this 16th day of August" and "2018" across a line, and the model's
copy ends with the line: the value has no year, and a date without one is no date
(`parse_date` will not guess it). Where the document's text goes on, past the copied span,
with a year and nothing else in between, the value takes that year, and its provenance
covers it. Nothing is invented: the year is the document's, next to the copied words.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.document import Document
from pipeline.extract.provenance import FieldEvidence, line_offsets, place
from schemas.common import parse_date

# What may stand between a copied date and its year: white space (a line break) and a comma.
_YEAR_AFTER = re.compile(r"[\s,]{1,4}((?:19|20)\d\d)\b")


def complete_dates(raw: Any, fields: list[FieldEvidence], document: Document,
                   paths: tuple[str, ...]) -> None:
    """Complete, in place in the answer and its evidence, each date at `paths` (top-level
    fields) that lacks a year the document prints right after it."""
    if not isinstance(raw, dict) or not paths:
        return
    text = document.text()
    for item in fields:
        value = raw.get(item.path) if item.path in paths else None
        if not isinstance(value, str) or item.char_end is None or parse_date(value):
            continue
        year = _YEAR_AFTER.match(text, item.char_end)
        if year is None:
            continue
        completed = " ".join((value + text[item.char_end:year.end()]).split())
        if parse_date(completed) is None:  # either reading order: parse_date tries both
            continue
        raw[item.path] = item.value = completed
        place(item, text, line_offsets(document), item.char_start)
