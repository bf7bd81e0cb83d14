"""Plain text files: decode and split into lines, no model, no layout.

Text files arrive in whatever encoding the sender's system used; a byte-order mark is
honoured, then UTF-8 is tried, then Windows-1252 (what most Western "ANSI" exports are),
and Latin-1 as the last resort, which cannot fail. Blank lines are dropped: lines are the
unit of text, and an empty line carries none.
"""

from __future__ import annotations

import codecs

from pipeline.convert.sniff import TEXT
from pipeline.document import Document, Line, Page

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes) -> str:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def convert_text(data: bytes) -> Document:
    lines = [
        Line(text=line.rstrip())
        for line in decode_text(data).replace("\x00", "").splitlines()
        if line.strip()
    ]
    return Document(pages=[Page(number=1, lines=lines)], converter="text", mime_type=TEXT)
