"""The one normalized shape every converter produces: pages → text lines with boxes.

Every later stage (classify, extract, provenance) reads only this, never the original
format, so adding a converter never touches them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class BBox(BaseModel):
    """Axis-aligned box in page units (PDF points, image pixels), origin top-left."""

    x0: float
    y0: float
    x1: float
    y1: float


class Line(BaseModel):
    """One line of text as the converter saw it."""

    text: str
    bbox: BBox | None = None
    confidence: float | None = Field(default=None, description="OCR confidence in [0, 1], if OCR")


class Page(BaseModel):
    number: int = Field(description="1-based page number")
    width: float | None = None
    height: float | None = None
    lines: list[Line] = Field(default_factory=list)


class Document(BaseModel):
    """A converted document; `converter` names the path taken (pypdf, rapidocr, docling, ...)."""

    pages: list[Page] = Field(default_factory=list)
    converter: str
    mime_type: str

    def text(self, max_chars: int | None = None) -> str:
        """The document's text, one line per line, pages separated by a blank line."""
        out = "\n\n".join("\n".join(line.text for line in page.lines) for page in self.pages)
        return out if max_chars is None else out[:max_chars]

    @property
    def is_empty(self) -> bool:
        return not any(line.text.strip() for page in self.pages for line in page.lines)
