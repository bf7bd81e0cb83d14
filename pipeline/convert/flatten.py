"""Flatten a DoclingDocument (a tree of headings, paragraphs, lists, tables) into our lines.

Later stages read lines, not structure, so each text item becomes one line per line of its
text and each table row one line with its cells separated by " | ", which keeps a fee table
or a signature block readable. Page headers and footers (docling's "furniture") are kept:
they often carry the company name or a document number.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pipeline.document import BBox, Line, Page

if TYPE_CHECKING:
    from docling_core.types.doc import DoclingDocument, NodeItem, TableItem


# Inline HTML that Markdown tables carry through docling ("V<sub>IN</sub>", "a<br>b"): the
# reader sees "VIN", so the text says "VIN" (the model copies it, labels print it so).
_INLINE_TAG = re.compile(r"</?(sub|sup|b|i|u|em|strong|code|span|small|br)\b[^>]*/?>",
                         re.IGNORECASE)


def plain(text: str) -> str:
    """A cell's or paragraph's text without inline HTML tags, white space collapsed."""
    return " ".join(_INLINE_TAG.sub(lambda m: " " if m.group(1).lower() == "br" else "",
                                    text).split())


def _table_rows(table: TableItem, page_height: float | None) -> list[tuple[str, BBox | None]]:
    """One (text, box) per non-empty row; the box is the union of its cells' boxes, if known."""
    rows: list[tuple[str, BBox | None]] = []
    for row in table.data.grid:
        texts: list[str] = []
        boxes: list[BBox] = []
        seen: set[tuple[int, int]] = set()
        for cell in row:
            key = (cell.start_row_offset_idx, cell.start_col_offset_idx)
            if key in seen:  # a spanning cell repeats in every grid position it covers
                continue
            seen.add(key)
            text = plain(cell.text)
            if not text:
                continue
            texts.append(text)
            if cell.bbox is not None and page_height is not None:
                b = cell.bbox.to_top_left_origin(page_height)
                boxes.append(BBox(x0=b.l, y0=b.t, x1=b.r, y1=b.b))
        if texts:
            union = None
            if boxes:
                union = BBox(
                    x0=min(b.x0 for b in boxes),
                    y0=min(b.y0 for b in boxes),
                    x1=max(b.x1 for b in boxes),
                    y1=max(b.y1 for b in boxes),
                )
            rows.append((" | ".join(texts), union))
    return rows


def to_pages(doc: DoclingDocument, *, with_layout: bool) -> list[Page]:
    """Pages of lines. Without layout (DOCX/HTML/MD) everything is page 1 and has no boxes."""
    from docling_core.types.doc import (
        ContentLayer,
        GroupItem,
        GroupLabel,
        ListItem,
        TableItem,
        TextItem,
    )

    pages: dict[int, Page] = {}
    if with_layout:
        for number, page_item in sorted(doc.pages.items()):
            pages[number] = Page(
                number=number, width=page_item.size.width, height=page_item.size.height
            )
    if not pages:
        pages[1] = Page(number=1)

    consumed: set[str] = set()  # tables and inline groups already emitted whole
    layers = {ContentLayer.BODY, ContentLayer.FURNITURE}
    for item, _level in doc.iterate_items(with_groups=True, included_content_layers=layers):
        if _inside(item, consumed, doc):
            continue
        if isinstance(item, GroupItem) and item.label == GroupLabel.INLINE:
            # One sentence split into runs ("Total: <b>$10.00</b>") is one line.
            consumed.add(item.self_ref)
            parts = [
                (child, child.text)
                for child, _ in doc.iterate_items(root=item, included_content_layers=layers)
                if isinstance(child, TextItem) and child.text.strip()
            ]
            if parts:
                page_no, bbox = _location(parts[0][0], pages) if with_layout else (1, None)
                text = _join_runs([t for _, t in parts])
                pages[page_no].lines.append(Line(text=text, bbox=bbox))
        elif isinstance(item, TableItem):
            consumed.add(item.self_ref)
            page_no, _ = _location(item, pages) if with_layout else (1, None)
            height = pages[page_no].height if with_layout else None
            for text, row_box in _table_rows(item, height):
                pages[page_no].lines.append(Line(text=text, bbox=row_box))
        elif isinstance(item, TextItem):
            page_no, bbox = _location(item, pages) if with_layout else (1, None)
            text = item.text
            if isinstance(item, ListItem) and item.marker:
                text = f"{item.marker} {text}"
            for part in text.splitlines():
                part = " ".join(part.split())
                if part:
                    pages[page_no].lines.append(Line(text=part, bbox=bbox))
    return [pages[n] for n in sorted(pages)]


def _join_runs(texts: list[str]) -> str:
    out = ""
    for text in (" ".join(t.split()) for t in texts):
        if out and not text.startswith((",", ".", ";", ":", "!", "?", ")")):
            out += " "
        out += text
    return out


def _inside(item: NodeItem, consumed: set[str], doc: DoclingDocument) -> bool:
    """Whether `item` is a descendant of a table or inline group already emitted whole."""
    parent = item.parent
    while parent is not None:
        if parent.cref in consumed:
            return True
        parent = parent.resolve(doc).parent
    return False


def _location(item: NodeItem, pages: dict[int, Page]) -> tuple[int, BBox | None]:
    prov = getattr(item, "prov", None)
    if not prov:
        return min(pages), None
    first = prov[0]
    page = pages.get(first.page_no)
    if page is None or page.height is None:
        return (first.page_no if first.page_no in pages else min(pages)), None
    box = first.bbox.to_top_left_origin(page.height)
    return first.page_no, BBox(x0=box.l, y0=box.t, x1=box.r, y1=box.b)
