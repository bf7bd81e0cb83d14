"""Word (.docx), HTML and Markdown through docling's declarative backends.

These formats carry their text and structure explicitly, so docling's simple pipeline reads
them without any model (needs python-docx, beautifulsoup4 and marko: docling-slim's
format-docx, format-html and format-markdown extras). They have no fixed pages or
coordinates, so everything lands on page 1 without boxes.

HTML is parsed with every fetch switched off: an uploaded page must not make the worker
request its images or stylesheets (from the internet or from the worker's own disk).
Importing docling is slow, so it happens on first use, and its pipeline is built once per
process (`_docling`: its backends and simple pipeline, without its DocumentConverter, which
imports torch).
"""

from __future__ import annotations

import functools
import io
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from pipeline.convert.flatten import to_pages
from pipeline.convert.sniff import DOCX, HTML, MARKDOWN, describe
from pipeline.document import Document
from pipeline.errors import DocumentError
from pipeline.lean_imports import without_torch

_SUFFIX = {DOCX: ".docx", HTML: ".html", MARKDOWN: ".md"}


@dataclass(frozen=True)
class _Docling:
    """What a conversion needs from docling: the simple pipeline (no models) and, per sniffed
    type, its input format, backend and backend options."""

    pipeline: Any
    formats: dict[str, tuple[Any, Any, Any]]  # MIME type → (InputFormat, backend, options)


@functools.cache
def _docling() -> _Docling:
    """docling's declarative backends under its `SimplePipeline`, as its `DocumentConverter`
    runs them for these formats. The converter itself is not used: it imports docling's
    speech pipeline, which imports torch (+~300 MB in a worker that never uses it;
    `pipeline.lean_imports`); these modules load without it."""
    with without_torch():
        from docling.backend.html_backend import HTMLDocumentBackend
        from docling.backend.md_backend import MarkdownDocumentBackend
        from docling.backend.msword_backend import MsWordDocumentBackend
        from docling.datamodel.backend_options import (
            HTMLBackendOptions,
            MarkdownBackendOptions,
        )
        from docling.datamodel.base_models import InputFormat
        from docling.pipeline.simple_pipeline import SimplePipeline

    no_fetch = {
        "enable_remote_fetch": False,
        "enable_local_fetch": False,
        "fetch_images": False,
    }
    return _Docling(
        pipeline=SimplePipeline(pipeline_options=SimplePipeline.get_default_options()),
        formats={
            DOCX: (InputFormat.DOCX, MsWordDocumentBackend, None),
            HTML: (InputFormat.HTML, HTMLDocumentBackend,
                   HTMLBackendOptions.model_validate({**no_fetch, "render_page": False})),
            MARKDOWN: (InputFormat.MD, MarkdownDocumentBackend,
                       MarkdownBackendOptions.model_validate(no_fetch)),
        },
    )


MAX_NESTING = 400  # elements inside elements; real pages stay far below, parsers recurse


class _DepthGauge(HTMLParser):
    """The deepest element nesting of an HTML page, found without building a tree."""

    _VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                       "meta", "source", "track", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.depth = self.deepest = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self._VOID:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self._VOID:
            self.depth = max(0, self.depth - 1)


def check_nesting(data: bytes) -> None:
    """Refuse a page nested deeper than MAX_NESTING before docling's recursive parsers meet it
    (thousands of nested divs kept docling busy for minutes, then made it fail)."""
    gauge = _DepthGauge()
    gauge.feed(data.decode("utf-8", errors="replace"))
    if gauge.deepest > MAX_NESTING:
        raise DocumentError(
            f"The HTML nests its elements {gauge.deepest:,} deep (the limit is {MAX_NESTING}); "
            "no real document does, so it is refused. Save the page as a PDF and upload that."
        )


def convert_markup(data: bytes, mime_type: str) -> Document:
    """Convert with docling; the stream is named by the sniffed type, not the upload's name."""
    docling = _docling()
    from docling.datamodel.base_models import ConversionStatus
    from docling.datamodel.document import InputDocument
    from docling.exceptions import ConversionError

    if mime_type == HTML:
        check_nesting(data)
    input_format, backend, options = docling.formats[mime_type]
    try:
        document = InputDocument(path_or_stream=io.BytesIO(data), format=input_format,
                                 backend=backend, backend_options=options,
                                 filename="document" + _SUFFIX[mime_type])
        result = (docling.pipeline.execute(document, raises_on_error=True)
                  if document.valid else None)
    except (ConversionError, zipfile.BadZipFile, KeyError, ValueError, RecursionError,
            RuntimeError) as exc:
        # python-docx and lxml raise these for damaged or non-conforming files; docling wraps
        # a backend's failure in RuntimeError ("Pipeline SimplePipeline failed").
        raise DocumentError(
            f"The file looks like {describe(mime_type)} but could not be read; it may be damaged "
            "or saved by a program that does not follow the format. Open it and save it again "
            "(or save it as a PDF), then upload the new copy."
        ) from exc
    if result is None or \
            result.status not in (ConversionStatus.SUCCESS, ConversionStatus.PARTIAL_SUCCESS):
        raise DocumentError(
            f"The file looks like {describe(mime_type)} but could not be read. Save it as a PDF "
            "and upload that."
        )
    return Document(
        pages=to_pages(result.document, with_layout=False),
        converter="docling",
        mime_type=mime_type,
    )
