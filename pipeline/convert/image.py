"""Scanned or photographed pages (PNG, JPEG, TIFF) → OCR; a multi-page TIFF is one page per frame.

Pillow's `Image.open` reads only the header, so the pixel and page limits are checked there,
before anything is decoded: a small file can declare a gigantic image (a decompression bomb)
and decoding it would take the worker's memory. Pillow's own bomb guard is set to the same
limit as a second line of defence.
"""

from __future__ import annotations

import io
import re
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.convert.limits import check_page_count, check_pixels, image_too_large
from pipeline.convert.ocr import UNCLIP_SCANS, ocr_image, prepare
from pipeline.document import Document, Page
from pipeline.errors import DocumentError
from pipeline.settings import Settings


def _damaged(kind: str) -> DocumentError:
    return DocumentError(
        f"The {kind} image is damaged or incomplete and cannot be read (it may have been cut "
        "off during upload). Open it on your computer to check, then scan or export it again "
        "and upload the new copy."
    )


def convert_image(data: bytes, mime_type: str, settings: Settings) -> Document:
    """OCR every frame of the image; boxes are in pixels of that frame."""
    kind = mime_type.split("/")[1].upper()
    Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
    try:
        with warnings.catch_warnings():
            # Between 1× and 2× the limit Pillow only warns; the check below refuses it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        # Over twice the limit Pillow refuses in open(), before we see the size; its
        # message carries the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else None
        raise image_too_large(None, None, settings, pixels) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _damaged(kind) from exc

    with img:
        try:
            frames = getattr(img, "n_frames", 1)
            check_page_count(frames, settings)
            for index in range(frames):
                img.seek(index)  # reads that frame's header only
                check_pixels(img.width, img.height, settings)
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            raise _damaged(kind) from exc

        pages = []
        for index in range(frames):
            try:
                img.seek(index)
                img.load()  # decode now, so a truncated file fails here, as bad input
                page_image = prepare(ImageOps.exif_transpose(img))
            except (OSError, SyntaxError, EOFError, ValueError) as exc:
                raise _damaged(kind) from exc
            pages.append(
                Page(
                    number=index + 1,
                    width=float(page_image.width),
                    height=float(page_image.height),
                    lines=ocr_image(page_image, unclip_ratio=UNCLIP_SCANS),
                )
            )
    return Document(pages=pages, converter="rapidocr", mime_type=mime_type)
