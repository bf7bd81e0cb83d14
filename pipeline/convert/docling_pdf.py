"""PDFs through docling's standard PDF pipeline (layout and table models), fully offline.

Used when `settings.docling_artifacts_path` points at docling's pre-fetched models
(`docling-tools models download layout tableformer -o DIR`). docling's layout analysis
orders multi-column pages and rebuilds tables far better than raw text runs, at the cost of
seconds per page. Everything is local: `artifacts_path` makes docling load the layout and
table models from that directory and never from a hub, and OCR (for bitmap regions) uses
the models bundled in the rapidocr wheel, passed by path so docling does not look for them
in the artifacts directory. Remote services stay disabled.

Needs docling-slim's `format-pdf` and `models-local` extras (docling-parse,
docling-ibm-models, torch, torchvision). The PDF is opened and checked with pdfium first
(encryption, damage, page limit), so those failures read the same as on the default route.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.convert.flatten import to_pages
from pipeline.convert.ocr import bundled_model_paths
from pipeline.convert.pdf import DAMAGED, open_pdf
from pipeline.document import Document
from pipeline.errors import DocumentError
from pipeline.settings import Settings

if TYPE_CHECKING:
    from docling.document_converter import DocumentConverter

log = logging.getLogger(__name__)
# What the extras bring: the PDF parser backend, the layout/table models, their runtime.
_PDF_PIPELINE_MODULES = ("docling_parse", "docling_ibm_models", "torch", "torchvision")
_lock = threading.Lock()


@lru_cache(maxsize=2)
def get_converter(artifacts_path: Path) -> DocumentConverter:
    """A PDF-only DocumentConverter reading its models from `artifacts_path` (cached)."""
    if not artifacts_path.is_dir():
        raise RuntimeError(
            f"DOCLING_ARTIFACTS_PATH={artifacts_path} is not a directory. Fetch the models "
            "with `docling-tools models download layout tableformer -o DIR`, or unset it to "
            "use the built-in PDF converter."
        )
    missing = [m for m in _PDF_PIPELINE_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeError(
            f"docling's PDF pipeline needs modules that are not installed ({', '.join(missing)}). "
            "Install 'docling-slim[format-pdf,models-local]' (with -c constraints.txt) or unset "
            "DOCLING_ARTIFACTS_PATH."
        )
    from docling.datamodel.accelerator_options import AcceleratorDevice, AcceleratorOptions
    from docling.datamodel.base_models import InputFormat
    from docling.datamodel.pipeline_options import PdfPipelineOptions, RapidOcrOptions
    from docling.document_converter import DocumentConverter, PdfFormatOption
    from docling.pipeline.standard_pdf_pipeline import StandardPdfPipeline

    models = bundled_model_paths()
    options = PdfPipelineOptions(
        artifacts_path=artifacts_path,
        enable_remote_services=False,
        allow_external_plugins=False,
        accelerator_options=AcceleratorOptions(device=AcceleratorDevice.CPU),
        do_ocr=True,
        ocr_options=RapidOcrOptions(
            backend="onnxruntime",
            det_model_path=str(models["det"]),
            cls_model_path=str(models["cls"]),
            rec_model_path=str(models["rec"]),
        ),
        do_table_structure=True,
        generate_page_images=False,
        generate_picture_images=False,
    )
    return DocumentConverter(
        allowed_formats=[InputFormat.PDF],
        format_options={
            InputFormat.PDF: PdfFormatOption(
                pipeline_cls=StandardPdfPipeline, pipeline_options=options
            )
        },
    )


def convert_pdf_docling(data: bytes, settings: Settings) -> Document:
    """Layout-aware conversion; boxes in PDF points, top-left origin, per docling's provenance."""
    assert settings.docling_artifacts_path is not None
    with open_pdf(data, settings):
        pass  # validation only: password, damage, page count

    from docling.datamodel.base_models import ConversionStatus, DocumentStream
    from docling.exceptions import ConversionError

    converter = get_converter(Path(settings.docling_artifacts_path))
    stream = DocumentStream(name="document.pdf", stream=io.BytesIO(data))
    with _lock:  # docling's pipelines keep per-run state; one document at a time
        try:
            result = converter.convert(
                stream, raises_on_error=True, max_num_pages=settings.max_pages
            )
        except ConversionError as exc:
            raise DocumentError(DAMAGED) from exc
    if result.status == ConversionStatus.PARTIAL_SUCCESS:
        log.warning("docling converted the PDF only partly: %s", result.errors)
    elif result.status != ConversionStatus.SUCCESS:
        raise DocumentError(DAMAGED)
    return Document(
        pages=to_pages(result.document, with_layout=True),
        converter="docling-pdf",
        mime_type="application/pdf",
    )
