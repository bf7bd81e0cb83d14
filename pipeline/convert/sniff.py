"""Decide what a file is from its bytes, using the file name only as a hint.

Uploads arrive with whatever name the sender gave them (`scan.pdf` that is really a JPEG,
`invoice` with no extension at all), so the magic bytes decide. The extension only settles
what bytes cannot: Markdown versus plain text, and which Office format an old OLE file is.
Known but unsupported formats are named so the clerk can be told what to export instead.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import PurePath

from pipeline.errors import DocumentError

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"

SUPPORTED_MIME_TYPES: frozenset[str] = frozenset({PDF, PNG, JPEG, TIFF, DOCX, HTML, MARKDOWN, TEXT})
IMAGE_TYPES: frozenset[str] = frozenset({PNG, JPEG, TIFF})

SUPPORTED_DESCRIPTION = (
    "PDF, PNG, JPEG or TIFF images, Word documents (.docx), HTML, Markdown and plain text"
)

# Names a person recognises, for the messages.
_DESCRIPTIONS = {
    PDF: "a PDF",
    PNG: "a PNG image",
    JPEG: "a JPEG image",
    TIFF: "a TIFF image",
    DOCX: "a Word document (.docx)",
    HTML: "an HTML page",
    MARKDOWN: "a Markdown file",
    TEXT: "a text file",
}

# Unsupported formats recognised by a fixed prefix: (prefix, mime, description).
_PREFIXES: tuple[tuple[bytes, str, str], ...] = (
    (b"MZ", "application/x-msdownload", "a Windows program (.exe/.dll)"),
    (b"\x7fELF", "application/x-executable", "a Linux program"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "application/x-mach-binary", "a macOS program"),
    (b"GIF87a", "image/gif", "a GIF image"),
    (b"GIF89a", "image/gif", "a GIF image"),
    (b"\x1f\x8b", "application/gzip", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "application/vnd.rar", "a RAR archive"),
    (b"%!PS", "application/postscript", "a PostScript file"),
    (b"{\\rtf", "application/rtf", "a Rich Text (.rtf) document"),
    (b"8BPS", "image/vnd.adobe.photoshop", "a Photoshop image"),
    (b"\x00\x00\x00\x0cjP  ", "image/jp2", "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", "image/jp2", "a JPEG 2000 image"),
    (b"OggS", "audio/ogg", "an audio file"),
    (b"ID3", "audio/mpeg", "an audio file"),
    (b"fLaC", "audio/flac", "an audio file"),
    (b"\x1a\x45\xdf\xa3", "video/webm", "a video file"),
    (b"SQLite format 3\x00", "application/vnd.sqlite3", "a database file"),
)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_BY_EXTENSION = {
    ".doc": ("application/msword", "an old-style Word document (.doc)"),
    ".xls": ("application/vnd.ms-excel", "an old-style Excel workbook (.xls)"),
    ".ppt": ("application/vnd.ms-powerpoint", "an old-style PowerPoint file (.ppt)"),
    ".msg": ("application/vnd.ms-outlook", "an Outlook message (.msg)"),
}

_MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown", ".mdown", ".mkd"})
_HTML_EXTENSIONS = frozenset({".html", ".htm", ".xhtml"})
_EXTENSION_TYPES = {
    ".pdf": PDF,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".docx": DOCX,
    **{ext: HTML for ext in _HTML_EXTENSIONS},
    **{ext: MARKDOWN for ext in _MARKDOWN_EXTENSIONS},
    ".txt": TEXT,
}


class UnsupportedType(DocumentError):
    """A file of a type the pipeline does not convert; `mime_type` names what was seen."""

    def __init__(self, message: str, mime_type: str) -> None:
        super().__init__(message)
        self.mime_type = mime_type


def empty_file_error() -> DocumentError:
    return DocumentError(
        "The file is empty (0 bytes). The upload may have failed or the file was saved "
        "empty; check the original and upload it again."
    )


def sniff_mime(data: bytes, filename: str) -> str:
    """The file's MIME type, if supported; otherwise raise `DocumentError` naming what it is."""
    if not data:
        raise empty_file_error()
    ext = PurePath(filename or "").suffix.lower()
    mime, description = _identify(data, ext)
    if mime in SUPPORTED_MIME_TYPES:
        return mime

    hint = ""
    claimed = _EXTENSION_TYPES.get(ext)
    if claimed is not None:
        hint = f" The name ends in {ext}, but the content is not {_DESCRIPTIONS[claimed]}."
    raise UnsupportedType(
        f"This type of file is not supported: it is {description} ({mime}).{hint} "
        f"Supported are {SUPPORTED_DESCRIPTION}. Save or export it as a PDF and upload that.",
        mime,
    )


def is_zip_archive(data: bytes) -> bool:
    """A plain ZIP archive (not a Word, Excel or other file that is a zip inside)."""
    return data.startswith((b"PK\x03\x04", b"PK\x05\x06")) and _identify_zip(data, "") == (
        "application/zip", "a ZIP archive")


def describe(mime: str) -> str:
    """A human name for a supported MIME type."""
    return _DESCRIPTIONS.get(mime, mime)


def _identify(data: bytes, ext: str) -> tuple[str, str]:
    head = data[:1024]
    # The PDF header may legally follow some junk bytes; readers look in the first 1 KiB.
    if b"%PDF-" in head:
        return PDF, _DESCRIPTIONS[PDF]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG, _DESCRIPTIONS[PNG]
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG, _DESCRIPTIONS[JPEG]
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF, _DESCRIPTIONS[TIFF]
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _identify_zip(data, ext)
    if data.startswith(_OLE_MAGIC):
        return _OLE_BY_EXTENSION.get(
            ext, ("application/x-ole-storage", "an old-style Office file or Outlook message")
        )
    riff = _identify_riff_or_isobmff(data)
    if riff is not None:
        return riff
    if data.startswith(b"BM") and len(data) >= 26:
        dib_header = int.from_bytes(data[14:18], "little")
        if dib_header in (12, 40, 52, 56, 64, 108, 124):
            return "image/bmp", "a BMP image"
    for prefix, mime, description in _PREFIXES:
        if data.startswith(prefix):
            return mime, description

    text = _sniff_text(data)
    if text is None:
        return "application/octet-stream", "unrecognised binary data"
    return _identify_text(text, ext)


def _identify_zip(data: bytes, ext: str) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        if ext == ".docx":
            raise DocumentError(
                "The Word document is damaged or incomplete and cannot be opened. Open it in "
                "Word to check it, save it again, and upload the new copy."
            ) from exc
        return "application/zip", "a damaged ZIP archive"
    if "word/document.xml" in names:
        return DOCX, _DESCRIPTIONS[DOCX]
    if any(n.startswith("xl/") for n in names):
        return (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "an Excel workbook (.xlsx)",
        )
    if any(n.startswith("ppt/") for n in names):
        return (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "a PowerPoint presentation (.pptx)",
        )
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return mimetype.decode("ascii", "replace"), "an OpenDocument file"
    if mimetype == b"application/epub+zip":
        return "application/epub+zip", "an e-book (EPUB)"
    return "application/zip", "a ZIP archive"


def _identify_riff_or_isobmff(data: bytes) -> tuple[str, str] | None:
    if data.startswith(b"RIFF") and len(data) >= 12:
        kind = data[8:12]
        if kind == b"WEBP":
            return "image/webp", "a WebP image"
        if kind == b"WAVE":
            return "audio/wav", "an audio file"
        if kind == b"AVI ":
            return "video/x-msvideo", "a video file"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"heim", b"heis"):
            return "image/heic", "a HEIC photo (the iPhone camera format)"
        if brand in (b"avif", b"avis"):
            return "image/avif", "an AVIF image"
        if brand.startswith(b"M4A"):
            return "audio/mp4", "an audio file"
        return "video/mp4", "a video file"
    return None


def _sniff_text(data: bytes) -> str | None:
    """The start of the file as text, or None if it looks binary."""
    sample = data[:8192]
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if sample.startswith(bom):
            return codecs.getincrementaldecoder(codec)(errors="replace").decode(sample)
    if b"\x00" in sample:
        return None
    try:
        # Incremental, so a multi-byte character cut at the sample's end is not an error.
        return codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    control = sum(1 for b in sample if b < 9 or 13 < b < 32 or b == 127)
    if control > len(sample) // 100:
        return None
    return sample.decode("cp1252", errors="replace")


def _identify_text(text: str, ext: str) -> tuple[str, str]:
    start = text.lstrip("\ufeff \t\r\n")[:512].lower()
    if start.startswith(("<!doctype html", "<html")):
        return HTML, _DESCRIPTIONS[HTML]
    if start.startswith("<?xml") or start.startswith("<svg"):
        if "<svg" in text[:2048].lower():
            return "image/svg+xml", "an SVG drawing"
        if "<html" in text[:2048].lower():
            return HTML, _DESCRIPTIONS[HTML]
    if ext in _HTML_EXTENSIONS and start.startswith("<"):
        return HTML, _DESCRIPTIONS[HTML]
    if ext in _MARKDOWN_EXTENSIONS:
        return MARKDOWN, _DESCRIPTIONS[MARKDOWN]
    return TEXT, _DESCRIPTIONS[TEXT]
