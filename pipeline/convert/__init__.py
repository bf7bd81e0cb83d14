"""The conversion stage: any supported upload → the normalized `Document` (pages → lines).

    mime = sniff_mime(data, filename)      # or DocumentError naming the type seen
    doc = convert(data, filename)          # or DocumentError with what to do about it

Routes, one module each:
    PDF with a text layer   pdf.py          pdfium text runs → lines with boxes (points)
    PDF page without one    pdf.py + ocr.py rendered at `ocr_dpi`, OCR'd
    PDF, docling configured docling_pdf.py  docling's layout pipeline (DOCLING_ARTIFACTS_PATH)
    PNG / JPEG / TIFF       image.py        RapidOCR, boxes in pixels, one page per frame
    DOCX / HTML / Markdown  markup.py       docling's declarative backends, page 1, no boxes
    plain text              text.py

Every failure caused by the file itself is a `DocumentError` whose message tells a person
what happened and what to do; anything else is a bug or an environment problem and is
raised as is.
"""

from __future__ import annotations

from pipeline.convert.limits import check_upload_size
from pipeline.convert.sniff import (
    DOCX,
    HTML,
    IMAGE_TYPES,
    MARKDOWN,
    PDF,
    SUPPORTED_MIME_TYPES,
    TEXT,
    UnsupportedType,
    sniff_mime,
)
from pipeline.document import Document
from pipeline.errors import DocumentError
from pipeline.settings import Settings, get_settings

__all__ = ["ROUTE_VERSIONS", "SUPPORTED_MIME_TYPES", "UnsupportedType", "convert", "sniff_mime"]

# Bumped when a route's output changes, so conversions cached by it (`pipeline.training.datasets`)
# are made again; a type not listed is at version 1. PDF 2: lines from pdfium's character list.
# Images 2: OCR boxes widened (`ocr.UNCLIP_SCANS`). Markup 2: inline HTML tags out of table
# cells (`flatten.plain`).
ROUTE_VERSIONS = {PDF: 2, **dict.fromkeys(IMAGE_TYPES, 2),
                  **dict.fromkeys((DOCX, HTML, MARKDOWN), 2)}

NO_TEXT = (
    "No text found in the document. If it is a scan or a photo, check that it is sharp, "
    "well lit, the right way up and not blank, then scan or photograph it again and upload "
    "the new copy."
)


def convert(data: bytes, filename: str, settings: Settings | None = None) -> Document:
    """Convert one uploaded file; `filename` is only a hint, the bytes decide the route."""
    settings = settings or get_settings()
    mime = sniff_mime(data, filename)
    check_upload_size(len(data), settings)

    if mime == PDF:
        if settings.docling_artifacts_path is not None:
            from pipeline.convert.docling_pdf import convert_pdf_docling

            doc = convert_pdf_docling(data, settings)
        else:
            from pipeline.convert.pdf import convert_pdf

            doc = convert_pdf(data, settings)
    elif mime in IMAGE_TYPES:
        from pipeline.convert.image import convert_image

        doc = convert_image(data, mime, settings)
    elif mime in (DOCX, HTML, MARKDOWN):
        from pipeline.convert.markup import convert_markup

        doc = convert_markup(data, mime)
    elif mime == TEXT:
        from pipeline.convert.text import convert_text

        doc = convert_text(data)
    else:  # pragma: no cover - sniff_mime only returns supported types
        raise AssertionError(f"no route for {mime}")

    if doc.is_empty:
        raise DocumentError(NO_TEXT)
    return doc
