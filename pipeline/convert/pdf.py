"""PDFs: the text layer through pdfium, and OCR for pages that have none (scans).

pdfium (pypdfium2) rather than pypdf: it is one C library that opens, decrypts, extracts text
with exact boxes and renders, and it is about twice as fast. pypdf's text visitor reports
positions relative to the current text object, so boxes from it would need our own
text-state bookkeeping. pdfium's "text rects" are runs of text on one baseline in one font;
`layout.to_lines` joins them into lines.

pdfium is not thread-safe, so every call into it holds one process-wide lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.convert.layout import Fragment, to_lines
from pipeline.convert.limits import check_page_count, render_scale
from pipeline.convert.ocr import ocr_image
from pipeline.document import Document, Line, Page
from pipeline.errors import DocumentError
from pipeline.settings import Settings

PDFIUM_LOCK = threading.RLock()

PASSWORD_PROTECTED = (
    "The PDF is password-protected; upload an unencrypted copy. (Open it with the password, "
    "then print or save it as a new PDF without a password.)"
)
DAMAGED = (
    "The PDF is damaged or incomplete and cannot be read (it may have been cut off during "
    "upload or download). Open it on your computer to check, save or scan it again, and "
    "upload the new copy."
)

# pdfium marks characters it synthesised or could not map; they are not text.
_JUNK = dict.fromkeys(map(ord, "\x00\x02\ufffe\uffff"), None)


@contextmanager
def open_pdf(data: bytes, settings: Settings) -> Iterator[pdfium.PdfDocument]:
    """Open and validate a PDF (encryption, damage, page limit); holds the pdfium lock."""
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            code = getattr(exc, "err_code", None)
            if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
                raise DocumentError(PASSWORD_PROTECTED) from exc
            raise DocumentError(DAMAGED) from exc
        try:
            pages = len(doc)
            if pages == 0:
                raise DocumentError(DAMAGED)
            check_page_count(pages, settings)
            yield doc
        finally:
            doc.close()


def _to_top_left(
    page: pdfium.PdfPage, rect: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """pdfium page space (bottom-left origin, unrotated) → displayed page, top-left origin."""
    left, bottom, right, top = page.get_cropbox()
    w, h = right - left, top - bottom
    rotation = page.get_rotation() % 360
    x0, y0, x1, y1 = rect
    corners = []
    for x, y in ((x0, y0), (x1, y1)):
        u, v = x - left, top - y  # unrotated, top-left origin
        if rotation == 90:
            u, v = h - v, u
        elif rotation == 180:
            u, v = w - u, h - v
        elif rotation == 270:
            u, v = v, w - u
        corners.append((u, v))
    (ua, va), (ub, vb) = corners
    return min(ua, ub), min(va, vb), max(ua, ub), max(va, vb)


def _text_layer(page: pdfium.PdfPage) -> list[Line]:
    """The page's characters in pdfium's order, cut into fragments where pdfium breaks a line
    or leaves a gap wider than the text is tall (two signature columns), each boxed by its
    characters; `to_lines` puts them in reading order.

    Why characters, not pdfium's text rects: asking for the text inside each rect
    (`get_text_bounded`) lost and doubled characters on a quarter of real contracts
    ("e aware corpora on av ng a p ace o" for "a Delaware corporation having a place of",
    "WAWARRANTIES" where bold is drawn twice); pdfium's own character list has neither fault.
    """
    textpage = page.get_textpage()
    try:
        fragments: list[Fragment] = []
        chars: list[str] = []
        box: list[float] = []  # left, bottom, right, top of the fragment so far
        spaced = False  # the PDF itself wrote a space since the last visible character
        for index in range(textpage.count_chars()):
            char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index)).translate(_JUNK)
            if not char:
                continue
            if char in "\r\n":
                _add_fragment(fragments, page, chars, box)
                chars, box = [], []
                continue
            if not char.strip():
                spaced = spaced or not pdfium_c.FPDFText_IsGenerated(textpage.raw, index)
            else:
                left, bottom, right, top = textpage.get_charbox(index, loose=True)
                if right > left and top > bottom:
                    # A wide gap pdfium filled (text drawn apart, not spaces the PDF wrote):
                    # another column, such as a second signature block.
                    if box and not spaced and left - box[2] > top - bottom:
                        _add_fragment(fragments, page, chars, box)
                        chars, box = [], []
                    box = [min(box[0], left), min(box[1], bottom), max(box[2], right),
                           max(box[3], top)] if box else [left, bottom, right, top]
                spaced = False
            chars.append(char)
        _add_fragment(fragments, page, chars, box)
        return to_lines(fragments)
    finally:
        textpage.close()


def _add_fragment(fragments: list[Fragment], page: pdfium.PdfPage, chars: list[str],
                  box: list[float]) -> None:
    text = " ".join("".join(chars).split())
    if text and box:
        fragments.append(Fragment(text, *_to_top_left(page, (box[0], box[1], box[2], box[3]))))


def _ocr_page(page: pdfium.PdfPage, width: float, height: float, settings: Settings) -> list[Line]:
    scale = render_scale(width, height, settings)
    bitmap = page.render(scale=scale, may_draw_forms=True)
    try:
        image = bitmap.to_pil()
    finally:
        bitmap.close()
    return ocr_image(image, scale=scale)


def convert_pdf(data: bytes, settings: Settings) -> Document:
    """Text layer where there is one, OCR of the rendered page where there is not.

    `converter` is "pypdfium2" when all text came from the text layer, "rapidocr" when all
    came from OCR, "pypdfium2+rapidocr" for a mix. Boxes are in PDF points either way.
    """
    pages: list[Page] = []
    used: set[str] = set()
    with open_pdf(data, settings) as doc:
        for index in range(len(doc)):
            try:
                page = doc[index]
            except pdfium.PdfiumError as exc:
                raise DocumentError(DAMAGED) from exc
            try:
                width, height = page.get_size()
                lines = _text_layer(page)
                if lines:
                    used.add("pypdfium2")
                else:
                    lines = _ocr_page(page, width, height, settings)
                    if lines:
                        used.add("rapidocr")
                pages.append(Page(number=index + 1, width=width, height=height, lines=lines))
            finally:
                page.close()
    converter = "+".join(sorted(used)) if used else "pypdfium2"
    return Document(pages=pages, converter=converter, mime_type="application/pdf")
