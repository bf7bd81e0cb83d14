"""Page images for the review page: page N of the original upload as a PNG.

Boxes are stored in page units (PDF points, image pixels) with a top-left origin, and the
review page draws them in percent of the page, so any rendering scale lines up as long as the
page is shown the way the converter saw it: PDFs rendered by pdfium (crop box and rotation
applied, as `pipeline.convert.pdf` maps its boxes), images turned upright by their EXIF
orientation (as `pipeline.convert.image` does before OCR). DOCX, HTML, Markdown and text have
no page image; the review page shows their text instead. The bytes come from
`pipeline.storage.documents.original`.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from pipeline.convert.sniff import IMAGE_TYPES, PDF

MAX_WIDTH = 1400  # px: sharp on a laptop screen, small enough to send quickly
PDF_MAX_SCALE = 2.0  # 144 dpi


class NoPageImage(LookupError):
    """The document has no such page image (no such page, or a format without pages)."""


def has_page_images(mime_type: str | None) -> bool:
    return mime_type == PDF or mime_type in IMAGE_TYPES


def render_page(data: bytes, mime_type: str | None, number: int) -> bytes:
    """Page `number` (1-based) as PNG bytes, at most MAX_WIDTH pixels wide."""
    if mime_type == PDF:
        image = _pdf_page(data, number)
    elif mime_type in IMAGE_TYPES:
        image = _image_frame(data, number)
    else:
        raise NoPageImage(f"A {mime_type or 'document of unknown type'} has no page images.")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _pdf_page(data: bytes, number: int) -> Image.Image:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        if not 1 <= number <= len(pdf):
            raise NoPageImage(f"The PDF has {len(pdf)} pages; there is no page {number}.")
        page = pdf[number - 1]
        width, _ = page.get_size()
        scale = min(PDF_MAX_SCALE, MAX_WIDTH / width) if width else 1.0
        image: Image.Image = page.render(scale=scale).to_pil()
        return image.convert("RGB")
    finally:
        pdf.close()


def _image_frame(data: bytes, number: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as img:
        frames = getattr(img, "n_frames", 1)
        if not 1 <= number <= frames:
            raise NoPageImage(f"The image has {frames} pages; there is no page {number}.")
        img.seek(number - 1)
        img.load()
        upright = ImageOps.exif_transpose(img)
        if upright.mode not in ("RGB", "L"):
            upright = _flatten(upright)
        upright.thumbnail((MAX_WIDTH, MAX_WIDTH * 20))  # width bound; keeps the aspect ratio
        return upright


def _flatten(image: Image.Image) -> Image.Image:
    """Transparency onto white, 16-bit and palette images to RGB, for a browser-friendly PNG."""
    from pipeline.convert.ocr import prepare

    return prepare(image).convert("RGB")
