"""An invoice on the page: one layout (text runs at positions), drawn as a PDF with a text
layer (reportlab) or as a scanned-looking image (Pillow: grey, slightly turned, specks, JPEG).

The layouts differ where real invoices differ: where the seller and the invoice details sit,
whether the buyer is boxed beside or below, the order of the table's columns, and where the
totals and the bank details go.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.doctypes.invoice.generator import InvoiceData

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Run:
    x: float  # points from the left
    y: float  # points from the top
    text: str
    size: float = 9.0
    bold: bool = False
    right: bool = False  # x is the right edge


def _amount(data: InvoiceData, text: str) -> str:
    if data.mark_before:
        return f"{data.currency_mark} {text}" if len(data.currency_mark) > 1 else \
            f"{data.currency_mark}{text}"
    return text


def layout(data: InvoiceData) -> list[Run]:
    width, _ = data.country.page
    left, right = 50.0, width - 50.0
    runs: list[Run] = []
    variant = data.layout
    title = data.words["title"]

    def block(x: float, y: float, lines: list[str], size: float = 9.0, bold_first: bool = False,
              align_right: bool = False) -> float:
        for n, line in enumerate(lines):
            runs.append(Run(x, y, line, size + (1.5 if bold_first and n == 0 else 0),
                            bold_first and n == 0, align_right))
            y += size + 4
        return y

    if variant == 0:  # seller top left, title and details top right, buyer below
        y = block(left, 60, data.seller, 9.5, bold_first=True)
        y = block(left, y + 2, data.seller_extra, 8)
        runs.append(Run(right, 62, title, 18, True, True))
        my = 92.0
        for label, value in data.meta:
            runs.append(Run(right - 150, my, f"{label}:", 9))
            runs.append(Run(right, my, value, 9, right=True))
            my += 13
        y = max(y, my) + 18
        runs.append(Run(left, y, f"{data.words['bill_to']}:", 9, True))
        y = block(left, y + 14, data.buyer, 9) + 20
    elif variant == 1:  # title first, seller and buyer side by side, details in one row
        runs.append(Run(left, 60, title, 20, True))
        runs.append(Run(left, 92, "From", 8, True))
        y1 = block(left, 106, data.seller + data.seller_extra, 8.5, bold_first=True)
        runs.append(Run(width / 2 + 10, 92, data.words["bill_to"], 8, True))
        y2 = block(width / 2 + 10, 106, data.buyer, 8.5, bold_first=True)
        y = max(y1, y2) + 16
        step = (right - left) / max(len(data.meta), 1)
        for n, (label, value) in enumerate(data.meta):
            runs.append(Run(left + n * step, y, label, 7.5, True))
            runs.append(Run(left + n * step, y + 12, value, 9))
        y += 44
    else:  # seller centred as a letterhead, buyer left, details right, title between
        y = 50.0
        for n, line in enumerate(data.seller + data.seller_extra):
            runs.append(Run(width / 2 - len(line) * 2.3 * (1.4 if n == 0 else 1), y, line,
                            14 if n == 0 else 8, n == 0))
            y += 20 if n == 0 else 11
        y += 16
        top = y
        runs.append(Run(left, y, data.words["bill_to"], 8.5, True))
        y1 = block(left, y + 13, data.buyer, 9)
        my = top
        for label, value in data.meta:
            runs.append(Run(right - 170, my, label, 9, True))
            runs.append(Run(right, my, value, 9, right=True))
            my += 13
        y = max(y1, my) + 14
        runs.append(Run(left, y, title, 15, True))
        y += 30

    columns = [data.words["description"], data.words["qty"], data.words["unit"],
               data.words["amount"]]
    xs = [left, right - 190, right - 95, right]
    if variant == 2:  # quantity first
        xs = [left + 60, left, right - 95, right]
    for n, heading in enumerate(columns):
        runs.append(Run(xs[n], y, heading, 8.5, True, right=n >= 2))
    y += 16
    for description, qty, unit, amount in data.lines:
        runs.append(Run(xs[0], y, description, 9))
        runs.append(Run(xs[1], y, qty, 9))
        runs.append(Run(xs[2], y, _amount(data, unit), 9, right=True))
        runs.append(Run(xs[3], y, _amount(data, amount), 9, right=True))
        y += 14
    y += 12
    for n, (label, value) in enumerate(data.totals):
        last = n == len(data.totals) - 1
        runs.append(Run(right - 190, y, label, 9.5 if last else 9, last))
        runs.append(Run(right, y, _amount(data, value), 9.5 if last else 9, last, True))
        y += 15
    if not data.mark_before:
        runs.append(Run(right - 190, y + 2, f"({data.currency_mark})" if len(
            data.currency_mark) == 1 else f"Currency: {data.currency_mark}", 8))
    y += 30
    block(left, y, data.footer, 8)
    return runs


def _font(bold: bool, size: float, scale: float) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), max(int(size * scale), 6))


def to_pdf(data: InvoiceData, seed: int) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    for name, file in (("DejaVu", "DejaVuSans.ttf"), ("DejaVu-Bold", "DejaVuSans-Bold.ttf")):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    width, height = data.country.page
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(width, height), invariant=True)
    pdf.setTitle(f"{data.words['title']} {data.labels['invoice_number']}")
    for run in layout(data):
        pdf.setFont("DejaVu-Bold" if run.bold else "DejaVu", run.size)
        draw = pdf.drawRightString if run.right else pdf.drawString
        draw(run.x, height - run.y, run.text)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def to_image(data: InvoiceData, seed: int, dpi: int = 150) -> bytes:
    """A scan: greyscale, a little turned, blurred and specked, saved as JPEG."""
    rng = random.Random(seed)
    width, height = data.country.page
    scale = dpi / 72
    page = Image.new("L", (int(width * scale), int(height * scale)), 255)
    draw = ImageDraw.Draw(page)
    for run in layout(data):
        font = _font(run.bold, run.size, scale)
        x, y = run.x * scale, run.y * scale - run.size * scale * 0.8
        if run.right:
            x -= draw.textlength(run.text, font=font)
        draw.text((x, y), run.text, fill=rng.randint(0, 50), font=font)
    for _ in range(rng.randint(50, 400)):  # specks
        px, py = rng.randrange(page.width), rng.randrange(page.height)
        draw.point((px, py), fill=rng.randint(60, 180))
    page = page.rotate(rng.uniform(-1.2, 1.2), resample=Image.Resampling.BICUBIC,
                       expand=False, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.7)))
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=rng.randint(60, 85))
    return out.getvalue()


def render(data: InvoiceData, seed: int) -> tuple[bytes, str]:
    """The document's bytes and its file extension."""
    return (to_image(data, seed), "jpg") if data.scanned else (to_pdf(data, seed), "pdf")
