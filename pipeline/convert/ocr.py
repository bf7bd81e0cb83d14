"""OCR with RapidOCR (PP-OCR models on onnxruntime), one engine per process.

The rapidocr wheel ships its default detection, direction and recognition models, but its
loader still goes through a "download unless the file is there with the right checksum"
path. We pass the bundled files' paths explicitly, which skips that path entirely: nothing
is ever fetched at run time, and a missing model is an install error, not a silent download.
Loading the three ONNX sessions takes time, so the engine is built once, lazily.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from pipeline.convert.layout import Fragment, to_lines
from pipeline.document import Line

if TYPE_CHECKING:
    from rapidocr import RapidOCR

# The models the installed rapidocr wheel bundles (rapidocr/models/), matching the
# PP-OCRv6 det/rec and PP-OCRv4 cls defaults in its config.yaml.
_DET = "PP-OCRv6_det_small.onnx"
_CLS = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
_REC = "PP-OCRv6_rec_small.onnx"

# How far each detected text box is grown before recognition. For photos and scans of
# receipts, wider boxes than RapidOCR's default (1.6) keep the first and last letters of a line
# and the spaces between words: measured on SROIE receipts (label text present in the OCR
# text, README "OCR"), 2.0 reads more addresses verbatim on train and dev at the same speed,
# 1.8 and 2.3 gain little. A PDF page rendered for OCR keeps the default: on the café receipt
# rendered at 150 dpi, 2.0 ran neighbouring words together ("TOTALRM").
UNCLIP_SCANS = 2.0
UNCLIP_DEFAULT = 1.6


def bundled_model_paths() -> dict[str, Path]:
    """The det/cls/rec model files inside the installed rapidocr package."""
    import rapidocr

    root = Path(rapidocr.__file__).resolve().parent / "models"
    paths = {"det": root / _DET, "cls": root / _CLS, "rec": root / _REC}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise RuntimeError(
            "RapidOCR's bundled models are missing (" + ", ".join(missing) + "); the rapidocr "
            "install is incomplete or a new version renamed them. Reinstall rapidocr, or "
            "update the file names in pipeline/convert/ocr.py."
        )
    return paths


@functools.cache
def get_engine() -> RapidOCR:
    """The process-wide RapidOCR engine, built on first use from the bundled models."""
    from rapidocr import RapidOCR

    paths = bundled_model_paths()
    params: dict[str, Any] = {
        "Global.log_level": "warning",
        "Det.model_path": str(paths["det"]),
        "Cls.model_path": str(paths["cls"]),
        "Rec.model_path": str(paths["rec"]),
    }
    return RapidOCR(params=params)


def prepare(image: Image.Image) -> Image.Image:
    """8-bit greyscale or RGB, transparency flattened onto white (OCR wants dark-on-light)."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(image, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    if image.mode == "1":
        return image.convert("L")
    if "A" in image.mode or image.mode == "P" and "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def ocr_image(image: Image.Image, scale: float = 1.0,
              unclip_ratio: float = UNCLIP_DEFAULT) -> list[Line]:
    """OCR one page image into reading-order lines; boxes are divided by `scale`.

    `scale` is pixels per output unit: 1 for images (boxes in pixels), dpi/72 for a
    rendered PDF page (boxes back in PDF points).
    """
    from rapidocr.utils.output import RapidOCROutput

    result = get_engine()(prepare(image), unclip_ratio=unclip_ratio)
    if not isinstance(result, RapidOCROutput):  # only when det/rec are switched off
        raise TypeError(f"RapidOCR returned {type(result).__name__}, expected full OCR output")
    if result.boxes is None or result.txts is None or result.scores is None:
        return []
    width, height = image.size
    fragments = []
    for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        pts = np.asarray(box, dtype=np.float64)
        # Detection boxes are padded and may poke past the image edge.
        pts[:, 0] = pts[:, 0].clip(0, width)
        pts[:, 1] = pts[:, 1].clip(0, height)
        pts /= scale
        fragments.append(
            Fragment(
                text=str(text),
                x0=float(pts[:, 0].min()),
                y0=float(pts[:, 1].min()),
                x1=float(pts[:, 0].max()),
                y1=float(pts[:, 1].max()),
                confidence=round(float(score), 4),
            )
        )
    return to_lines(fragments, always_space=True)
