"""The size limits every route enforces, with the one wording each limit is reported in.

Limits are checked from headers and page counts before any pixels are decoded or pages
parsed, so a hostile or accidental giant (a 100-megapixel "receipt", a PNG whose header
claims 50,000 × 50,000 pixels) costs nothing but a clear message.
"""

from __future__ import annotations

import math

from pipeline.errors import DocumentError
from pipeline.settings import Settings


def _human(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1_048_576:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1_048_576:.1f} MB"


def check_upload_size(size: int, settings: Settings) -> None:
    if size > settings.max_upload_bytes:
        raise DocumentError(
            f"The file is {_human(size)}; the limit is {_human(settings.max_upload_bytes)}. "
            "Compress it or split it into smaller files and upload those."
        )


def check_page_count(pages: int, settings: Settings) -> None:
    if pages > settings.max_pages:
        raise DocumentError(
            f"The document has {pages} pages; the limit is {settings.max_pages}. Split it into "
            "smaller files and upload them separately."
        )


def image_too_large(
    width: int | None, height: int | None, settings: Settings, pixels: int | None = None
) -> DocumentError:
    if width and height:
        size = f"{width:,} × {height:,} pixels"
    elif pixels:
        size = f"{pixels:,} pixels"
    else:
        size = "too many pixels"
    return DocumentError(
        f"The image is too large to process ({size}; the limit is "
        f"{settings.max_image_pixels:,} pixels in total). Scan or photograph it again at a "
        "lower resolution (300 dpi is plenty), or save it as a PDF, and upload that."
    )


def check_pixels(width: int, height: int, settings: Settings) -> None:
    if width * height > settings.max_image_pixels:
        raise image_too_large(width, height, settings)


def render_scale(width_pt: float, height_pt: float, settings: Settings) -> float:
    """Points→pixels scale for rendering a PDF page at `ocr_dpi`, capped by `max_image_pixels`.

    An oversized page (a poster, an engineering drawing) is rendered at a lower resolution
    rather than refused: its text is usually large too.
    """
    scale = settings.ocr_dpi / 72.0
    area = max(width_pt * height_pt, 1.0)
    if area * scale * scale > settings.max_image_pixels:
        scale = math.sqrt(settings.max_image_pixels / area) * 0.999
    return scale
