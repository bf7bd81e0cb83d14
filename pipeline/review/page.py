"""What the review page shows of one document: the form's inputs with their confidence, the
boxes to draw on the page images, the text with the extracted values marked, the audit trail.

Plain data for the `document.html` template, built here rather than in the web layer so the
page and the corrections API read a document the same way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from psycopg import Connection

from pipeline import doctypes
from pipeline.document import Document
from pipeline.review.corrections import draft_from_output, entry_fields, leaves
from pipeline.review.page_images import has_page_images
from pipeline.storage import documents, records, reviews

HIGH_CONFIDENCE = 0.9
# What the page reads of the latest run: the answer to fill the form with, and who wrote it.
PAGE_RUN = ("id", "document_type", "raw_output", "record", "valid", "violations", "source",
            "reviewer", "model", "adapter", "created_at")


def document_page(
    conn: Connection[Any], document_id: uuid.UUID, threshold: float
) -> dict[str, Any] | None:
    """The template context for the document's review page (None: no such document).

    `threshold` is the confidence below which a value is marked low
    (DOCKET_CONFIDENCE_THRESHOLD).
    """
    doc = documents.get_document(conn, document_id)
    if doc is None:
        return None
    document = documents.content(conn, document_id)
    run = records.latest_run(conn, document_id, PAGE_RUN)
    fields = records.run_fields(conn, run["id"]) if run else []
    trail = reviews.history(conn, document_id)
    evidence = {f["path"]: f for f in fields}
    # Values a reviewer typed (their latest correction still stands) show as corrected.
    latest: dict[str, str | None] = {}
    for c in trail:  # newest first
        latest.setdefault(c["path"], c["new_value"])
    corrected = {path for path, value in latest.items()
                 if path in evidence and evidence[path]["value"] == value}

    def level(path: str, confidence: float | None) -> str:
        if path in corrected:
            return "corrected"
        return _level(confidence, threshold)

    inputs: list[dict[str, Any]] = []
    if run is not None and run["document_type"] in doctypes.REGISTRY:
        doctype = doctypes.get(run["document_type"])
        draft = draft_from_output(doctype, run["raw_output"])
        flagged = {p for v in run["violations"] for p in v.get("fields", [])}
        for path, value in leaves(draft).items():
            confidence = evidence[path]["confidence"] if path in evidence else None
            inputs.append({
                "path": path, "value": value or "", "id": "field-" + _slug(path),
                "group": path.rsplit(".", 1)[0] if "]." in path else None,
                "confidence": confidence,
                "level": level(path, confidence),
                "flagged": path in flagged or path.split("[")[0] in flagged
                or path.rsplit(".", 1)[0] in flagged,
                "located": path in evidence and evidence[path]["page"] is not None,
            })
        inputs += _new_entry_inputs(doctype, draft)
    pages = _pages(document, fields, level) if document is not None else []
    return {
        "doc": doc, "run": run, "inputs": inputs, "trail": trail, "pages": pages,
        "images": has_page_images(doc["mime_type"]) and bool(pages),
        "field_levels": {f["path"]: level(f["path"], f["confidence"]) for f in fields},
        "text_segments": _marked_text(document.text(), [f for f in fields if f["value"]])
        if document is not None else [],
        "levels": {"high": f"≥ {HIGH_CONFIDENCE}", "medium": f"≥ {threshold}",
                   "low": f"< {threshold}"},
    }


def _pages(
    document: Document, fields: list[dict[str, Any]], level: Callable[[str, float | None], str]
) -> list[dict[str, Any]]:
    """Each page with its values' boxes in percent of the page (any image scale fits)."""
    pages = []
    for page in document.pages:
        boxes = []
        if page.width and page.height:
            for f in fields:
                if f["page"] != page.number or f["value"] is None:
                    continue
                for box in f["bboxes"]:
                    boxes.append({
                        "path": f["path"], "confidence": f["confidence"],
                        "level": level(f["path"], f["confidence"]),
                        "left": 100 * box["x0"] / page.width,
                        "top": 100 * box["y0"] / page.height,
                        "width": 100 * (box["x1"] - box["x0"]) / page.width,
                        "height": 100 * (box["y1"] - box["y0"]) / page.height,
                    })
        pages.append({"number": page.number, "boxes": boxes,
                      "ratio": (page.height / page.width) if page.width and page.height
                      else None})
    return pages


def _level(confidence: float | None, threshold: float) -> str:
    if confidence is None:
        return "none"
    return ("high" if confidence >= HIGH_CONFIDENCE else "medium" if confidence >= threshold
            else "low")


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")


def _marked_text(text: str, fields: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The text cut into (segment, field path or None) around the fields' char spans."""
    spans = sorted((f["char_start"], f["char_end"], f["path"]) for f in fields
                   if f["char_start"] is not None and f["char_end"] is not None)
    out: list[tuple[str, str | None]] = []
    at = 0
    for start, end, path in spans:
        if start < at:
            continue  # overlaps a span already marked
        out += [(text[at:start], None), (text[start:end], path)]
        at = end
    out.append((text[at:], None))
    return [(segment, path) for segment, path in out if segment]


def _new_entry_inputs(doctype: doctypes.DocType, draft: dict[str, Any]) -> list[dict[str, Any]]:
    """One blank entry per list field (a missed receipt line, party, signatory) to add."""
    out = []
    for name, entries in draft.items():
        if not isinstance(entries, list):
            continue
        entry = f"{name}[{len(entries)}]"
        names = entry_fields(doctype, name)
        paths = [f"{entry}.{field}" for field in names] if names is not None else [entry]
        out += [{"path": path, "value": "", "id": "field-" + _slug(path), "new": True,
                 "group": f"Add to {name} (leave blank to add nothing)", "confidence": None,
                 "level": "none", "flagged": False, "located": True} for path in paths]
    return out
