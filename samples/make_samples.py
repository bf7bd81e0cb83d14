"""Write the sample documents into samples/documents/ (run: python samples/make_samples.py).

The samples are made here rather than collected so that they are free to ship, small, and
their true field values are known exactly (samples/README.md is the answer key). The output
is deterministic: fixed seeds, fixed dates, reportlab's invariant mode and fixed zip
timestamps, so regenerating does not churn the repository.

Needs the `dev` extra (reportlab, python-docx) and the DejaVu fonts
(Debian package fonts-dejavu-core).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.doctypes.invoice import generator as invoice_generator
from pipeline.doctypes.invoice import render as invoice_render

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "documents"  # what `docket run samples/documents` and the tests read
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


@dataclass(frozen=True)
class Item:
    name: str
    qty: int
    unit: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.unit * self.qty).quantize(CENT)


@dataclass(frozen=True)
class Receipt:
    merchant: str
    header: list[str]  # address, phone, registration numbers
    meta: list[str]  # date, receipt number, cashier
    items: list[Item]
    tax_label: str
    tax_rate: Decimal
    currency: str
    payment: list[str]
    footer: list[str]

    @property
    def subtotal(self) -> Decimal:
        return sum((i.amount for i in self.items), Decimal("0"))

    @property
    def tax(self) -> Decimal:
        return (self.subtotal * self.tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


CAFE = Receipt(
    merchant="KOPI KAKI CAFE",
    header=[
        "Kopi Kaki Sdn Bhd (1187734-K)",
        "12 Jalan Telawi 3, Bangsar",
        "59100 Kuala Lumpur",
        "Tel: 03-2284 1190",
        "SST Reg: W10-1808-32000117",
    ],
    meta=["Date: 14/03/2025  08:42", "Receipt: KK-20250314-0087", "Table: 7   Cashier: Aina"],
    items=[
        Item("Flat White", 2, Decimal("12.00")),
        Item("Nasi Lemak Special", 1, Decimal("15.90")),
        Item("Kaya Toast Set", 2, Decimal("8.50")),
        Item("Iced Teh Tarik", 1, Decimal("6.50")),
    ],
    tax_label="SST 6%",
    tax_rate=Decimal("0.06"),
    currency="RM",
    payment=["Paid by: VISA **** 4821", "Approval code: 093115"],
    footer=["Thank you! Come again.", "Free Wi-Fi: kopikaki-guest"],
)

HARDWARE = Receipt(
    merchant="PINE RIDGE HARDWARE",
    header=[
        "418 Main Street",
        "Burlington, VT 05401",
        "(802) 555-0143",
    ],
    meta=["Date: 04/02/2025  14:17", "Trans #: 30418  Reg: 02", "Associate: Glen"],
    items=[
        Item("Wood Screws #8 100pk", 2, Decimal("7.49")),
        Item("Claw Hammer 16oz", 1, Decimal("18.99")),
        Item("Painters Tape 1.88in", 3, Decimal("5.29")),
        Item("LED Bulb 60W 4pk", 1, Decimal("11.49")),
    ],
    tax_label="Sales Tax 8%",
    tax_rate=Decimal("0.08"),
    currency="$",
    payment=["Payment: CASH", "Tendered: 70.00", "Change: 3.76"],
    footer=["Returns within 30 days", "with receipt. Thank you!"],
)

BOOKSHOP = Receipt(
    merchant="LARKSPUR BOOKS",
    header=["55 Elm Street", "Northampton, MA 01060", "(413) 555-0186"],
    meta=["Date: 05/17/2025 16:05", "Receipt #: LB-118204", "Cashier: Theo"],
    items=[
        Item("The Overstory (paperback)", 1, Decimal("18.99")),
        Item("Braiding Sweetgrass", 1, Decimal("20.00")),
        Item("Moleskine Notebook A5", 2, Decimal("14.50")),
        Item("Leather Bookmark", 1, Decimal("6.00")),
    ],
    tax_label="MA Sales Tax 6.25%",
    tax_rate=Decimal("0.0625"),
    currency="$",
    payment=["Paid by: VISA ending 1177", "Auth: 55120B"],
    footer=["Members earn 1 point per $1.", "Thank you for shopping local!"],
)


# --------------------------------------------------------------------------- receipt images


def _receipt_lines(r: Receipt, width: int) -> list[tuple[str, str]]:
    """The receipt as (style, text) rows; width is in monospace characters."""

    def lr(left: str, right: str) -> str:
        return left + " " * max(1, width - len(left) - len(right)) + right

    rows: list[tuple[str, str]] = [("title", r.merchant)]
    rows += [("center", h) for h in r.header]
    rows.append(("rule", "-" * width))
    rows += [("left", m) for m in r.meta]
    rows.append(("rule", "-" * width))
    rows.append(("left", lr("ITEM", "AMOUNT")))
    for it in r.items:
        rows.append(("left", it.name))
        rows.append(("left", lr(f"  {it.qty} x {money(it.unit)}", money(it.amount))))
    rows.append(("rule", "-" * width))
    rows.append(("left", lr("Subtotal", money(r.subtotal))))
    rows.append(("left", lr(r.tax_label, money(r.tax))))
    rows.append(("bold", lr(f"TOTAL {r.currency}", money(r.total))))
    rows.append(("rule", "-" * width))
    rows += [("left", p) for p in r.payment]
    rows.append(("blank", ""))
    rows += [("center", f) for f in r.footer]
    return rows


def render_receipt(r: Receipt, seed: int, angle: float) -> Image.Image:
    """A greyscale 'scan' of a thermal receipt: paper on a darker bed, slightly rotated."""
    rng = random.Random(seed)
    chars = 34
    mono = ImageFont.truetype(str(FONT_DIR / "DejaVuSansMono.ttf"), 22)
    mono_bold = ImageFont.truetype(str(FONT_DIR / "DejaVuSansMono-Bold.ttf"), 22)
    title = ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), 32)
    char_w = mono.getlength("M")
    margin = 28
    paper_w = int(chars * char_w) + 2 * margin
    rows = _receipt_lines(r, chars)
    line_h = 30
    paper_h = margin * 2 + 50 + line_h * len(rows)

    paper = Image.new("L", (paper_w, paper_h), 244)
    draw = ImageDraw.Draw(paper)
    y = margin
    for style, text in rows:
        ink = rng.randint(20, 45)  # thermal print is uneven
        if style == "title":
            w = draw.textlength(text, font=title)
            draw.text(((paper_w - w) / 2, y), text, font=title, fill=ink)
            y += 50
            continue
        if style == "center":
            w = draw.textlength(text, font=mono)
            draw.text(((paper_w - w) / 2, y), text, font=mono, fill=ink)
        elif style == "bold":
            draw.text((margin, y), text, font=mono_bold, fill=ink)
        elif style != "blank":
            draw.text((margin, y), text, font=mono, fill=ink)
        y += line_h

    # Scanner bed around the paper, a slight skew, softness and a few specks of dust.
    bed = Image.new("L", (paper_w + 80, paper_h + 80), 96)
    bed.paste(paper, (40, 40))
    img = bed.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=96)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    px = img.load()
    assert px is not None
    for _ in range(900):
        x, yy = rng.randrange(img.width), rng.randrange(img.height)
        px[x, yy] = rng.choice((60, 90, 200))
    return img


# --------------------------------------------------------------------------- PDFs


def receipt_pdf(r: Receipt, path: Path) -> None:
    """A receipt printed to PDF by a point-of-sale system: narrow page, Courier, text layer."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    rows = _receipt_lines(r, 38)
    height = 30 + 20 + (len(rows) - 1) * 12 + 30
    c = canvas.Canvas(str(path), pagesize=(80 * mm, height), invariant=1, pageCompression=1)
    c.setTitle(f"{r.merchant} receipt")
    c.setAuthor("Docket samples")
    y = height - 30
    for style, text in rows:
        if style == "title":
            c.setFont("Helvetica-Bold", 14)
            c.drawCentredString(40 * mm, y, text)
            y -= 20
            continue
        if style == "center":
            c.setFont("Courier", 8.5)
            c.drawCentredString(40 * mm, y, text)
        elif style == "bold":
            c.setFont("Courier-Bold", 8.5)
            c.drawString(6 * mm, y, text)
        elif style != "blank":
            c.setFont("Courier", 8.5)
            c.drawString(6 * mm, y, text)
        y -= 12
    c.showPage()
    c.save()


NDA_PARTIES = (
    (
        "Northwind Analytics, Inc.",
        "a Delaware corporation with offices at 200 Park Avenue South, Suite 1510, "
        "New York, NY 10003",
        "Northwind",
    ),
    (
        "Bluefin Robotics LLC",
        "a Massachusetts limited liability company with offices at 88 Seaport Boulevard, "
        "Boston, MA 02210",
        "Bluefin",
    ),
)

NDA_CLAUSES: list[tuple[str, str]] = [
    (
        "1. Purpose",
        "The parties wish to evaluate a possible collaboration on warehouse robotics analytics "
        '(the "Purpose"). In doing so, each party (as "Disclosing Party") may disclose '
        'Confidential Information to the other party (as "Receiving Party").',
    ),
    (
        "2. Confidential Information",
        '"Confidential Information" means any non-public business, technical or financial '
        "information disclosed by the Disclosing Party, in any form, that is marked "
        "confidential or that a reasonable person would understand to be confidential.",
    ),
    (
        "3. Obligations",
        "The Receiving Party shall use Confidential Information only for the Purpose, shall "
        "protect it with at least reasonable care, and shall disclose it only to its employees "
        "and advisers who need to know it and are bound by duties of confidentiality.",
    ),
    (
        "4. Exclusions",
        "These obligations do not apply to information that is or becomes public through no "
        "fault of the Receiving Party, was known to it before disclosure, is independently "
        "developed, or is rightfully received from a third party without restriction.",
    ),
    (
        "5. Term",
        "This Agreement begins on the Effective Date and continues for a term of 2 years. "
        "Obligations of confidentiality survive for 3 years after expiry or termination.",
    ),
    (
        "6. Termination",
        "Either party may terminate this Agreement at any time upon 30 days' written notice "
        "to the other party.",
    ),
    (
        "7. Return of Materials",
        "Upon termination or on request, the Receiving Party shall promptly return or destroy "
        "all Confidential Information and certify in writing that it has done so.",
    ),
    (
        "8. No License",
        "Nothing in this Agreement grants either party any right or license under any patent, "
        "copyright or other intellectual property of the other party.",
    ),
    (
        "9. Governing Law",
        "This Agreement is governed by the laws of the State of Delaware, without regard to its "
        "conflict-of-laws rules. The courts located in Wilmington, Delaware have exclusive "
        "jurisdiction.",
    ),
    (
        "10. Entire Agreement",
        "This Agreement is the entire agreement of the parties on its subject and may be "
        "amended only in a writing signed by both parties.",
    ),
]

NDA_SIGNATORIES = (
    ("Northwind Analytics, Inc.", "Dana Whitfield", "Chief Executive Officer"),
    ("Bluefin Robotics LLC", "Marcus Oyelaran", "Managing Member"),
)


def contract_pdf(path: Path) -> None:
    """A two-page mutual NDA, typeset with reportlab's platypus (text layer, Helvetica)."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    body.fontSize = 10.5
    body.leading = 14
    h = styles["Heading4"]
    story: list = [
        Paragraph("MUTUAL NON-DISCLOSURE AGREEMENT", styles["Title"]),
        Paragraph(
            'This Mutual Non-Disclosure Agreement (the "Agreement") is entered into as of '
            'March 3, 2025 (the "Effective Date") by and between:',
            body,
        ),
    ]
    for name, desc, short in NDA_PARTIES:
        story.append(Paragraph(f'<b>{name}</b>, {desc} ("{short}"); and', body))
    story[-1] = Paragraph(
        f'<b>{NDA_PARTIES[1][0]}</b>, {NDA_PARTIES[1][1]} ("{NDA_PARTIES[1][2]}").', body
    )
    story.append(
        Paragraph(
            'Northwind and Bluefin are each a "Party" and together the "Parties". Each Party '
            "acts as both Disclosing Party and Receiving Party under this Agreement.",
            body,
        )
    )
    for i, (title, text) in enumerate(NDA_CLAUSES):
        if i == 6:
            story.append(PageBreak())
        story += [Paragraph(title, h), Paragraph(text, body)]
    story += [
        Spacer(1, 0.3 * inch),
        Paragraph(
            "IN WITNESS WHEREOF, the Parties have executed this Agreement as of the Effective "
            "Date.",
            body,
        ),
        Spacer(1, 0.3 * inch),
    ]
    sig_rows = [[f"For {org}" for org, _, _ in NDA_SIGNATORIES]]
    sig_rows.append(["Signature: ______________________"] * 2)
    sig_rows.append([f"Name: {n}" for _, n, _ in NDA_SIGNATORIES])
    sig_rows.append([f"Title: {t}" for _, _, t in NDA_SIGNATORIES])
    sig_rows.append(["Date: March 3, 2025"] * 2)
    story.append(Table(sig_rows, colWidths=[3.2 * inch, 3.2 * inch], hAlign="LEFT"))

    doc = SimpleDocTemplate(
        str(path),
        pagesize=LETTER,
        title="Mutual Non-Disclosure Agreement",
        author="Docket samples",
        invariant=1,
        leftMargin=inch,
        rightMargin=inch,
        topMargin=inch,
        bottomMargin=inch,
    )

    def footer(canvas: Canvas, d: SimpleDocTemplate) -> None:
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(LETTER[0] - inch, 0.6 * inch, f"Page {d.page} of 2")

    doc.build(story, onFirstPage=footer, onLaterPages=footer)


# A supply agreement for clause review: long enough (8 pages) that the model reads passages,
# with five of the six reviewed clauses spread through it and no non-compete.
SUPPLY_PARTIES = (
    ("Harborview Components Corp.", "a New York corporation", "Supplier"),
    ("Larkspur Medical Devices, Inc.", "a Delaware corporation", "Buyer"),
)
SUPPLY_SECTIONS = [
    ("1. Definitions", '"Products" means the sterile tubing assemblies listed in Exhibit A, as '
     'amended from time to time by written agreement of the parties.'),
    ("2. Exclusive Supply", "During the Term, Buyer shall purchase exclusively from Supplier "
     "all of its requirements for the Products in North America, and Supplier shall not sell "
     "the Products to any other medical device manufacturer in North America."),
    ("3. Forecasts and Orders", "Buyer shall provide a rolling twelve-month forecast each "
     "month. Purchase orders are binding once accepted in writing by Supplier."),
    ("4. Term and Renewal", "This Agreement begins on the Effective Date and continues for "
     "three (3) years. It renews automatically for successive one (1) year periods unless "
     "either party gives notice of non-renewal at least ninety (90) days before the end of "
     "the then-current term."),
    ("5. Termination for Convenience", "Buyer may terminate this Agreement for convenience at "
     "any time upon one hundred eighty (180) days prior written notice to Supplier."),
    ("6. Change of Control", "If Supplier undergoes a change of control, including a merger "
     "or the sale of all or substantially all of its assets, Buyer may terminate this "
     "Agreement upon thirty (30) days written notice."),
    ("7. Assignment", "Neither party may assign this Agreement or any of its rights or "
     "obligations hereunder without the prior written consent of the other party, which "
     "shall not be unreasonably withheld."),
    ("8. Limitation of Liability", "In no event shall either party's aggregate liability "
     "arising out of this Agreement exceed the amounts paid by Buyer to Supplier in the "
     "twelve (12) months preceding the claim."),
    ("9. Governing Law", "This Agreement is governed by the laws of the State of New York, "
     "without regard to its conflict-of-laws principles."),
]
# Sections of ordinary terms between the reviewed ones, so the document runs long.
SUPPLY_FILLER = (
    "{n}.{k} Supplier shall manufacture the Products in accordance with the Specifications, "
    "applicable current good manufacturing practices and the quality agreement between the "
    "parties, and shall keep complete batch records for each lot for not less than the "
    "period the quality agreement requires; Buyer may review such records on reasonable "
    "notice during normal business hours."
)


def supply_pdf(path: Path) -> None:
    """A long supply agreement (text layer), for clause review."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    story: list = [
        Paragraph("SUPPLY AGREEMENT", styles["Title"]),
        Paragraph('This Supply Agreement (the "Agreement") is made and entered into on '
                  'January 15, 2024 (the "Effective Date") by and between:', body),
    ]
    for name, desc, short in SUPPLY_PARTIES:
        story.append(Paragraph(f'<b>{name}</b>, {desc} ("{short}");', body))
    for n, (title, text) in enumerate(SUPPLY_SECTIONS, start=1):
        story += [Paragraph(title, styles["Heading4"]), Paragraph(text, body)]
        story += [Paragraph(SUPPLY_FILLER.format(n=n, k=k), body) for k in range(1, 9)]
    story.append(Paragraph("IN WITNESS WHEREOF, the parties have executed this Agreement as "
                           "of the Effective Date.", body))
    SimpleDocTemplate(str(path), pagesize=LETTER, title="Supply Agreement",
                      author="Docket samples", invariant=1, leftMargin=inch,
                      rightMargin=inch).build(story)


# --------------------------------------------------------------------------- DOCX


def services_docx(path: Path) -> None:
    """A services agreement as a Word file, with a fee table (python-docx)."""
    import docx
    from docx.shared import Pt

    d = docx.Document()
    props = d.core_properties
    props.title = "Master Services Agreement"
    props.author = "Docket samples"
    props.created = props.modified = dt.datetime(2025, 1, 10, 9, 0, 0)
    props.last_modified_by = "Docket samples"
    props.revision = 1
    d.styles["Normal"].font.size = Pt(11)

    d.add_heading("MASTER SERVICES AGREEMENT", level=0)
    d.add_paragraph(
        'This Master Services Agreement (the "Agreement") is made effective as of '
        'January 15, 2025 (the "Effective Date") between:'
    )
    d.add_paragraph(
        "Harborview Dental Group, P.C., a New York professional corporation with its principal "
        'office at 415 Madison Avenue, New York, NY 10017 (the "Client"); and'
    )
    d.add_paragraph(
        "Cobalt Ledger Consulting Ltd., a New Jersey company with its principal office at "
        '30 Montgomery Street, Jersey City, NJ 07302 (the "Service Provider").'
    )
    clauses = [
        (
            "1. Services",
            "The Service Provider shall provide bookkeeping, payroll administration and "
            "monthly financial reporting services as described in Schedule A (the "
            '"Services").',
        ),
        (
            "2. Fees and Payment",
            "The Client shall pay the fees set out below. Invoices are issued monthly and are "
            "payable within 30 days of the invoice date.",
        ),
    ]
    for title, text in clauses:
        d.add_heading(title, level=2)
        d.add_paragraph(text)
    table = d.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Service", "Fee", "Billing"), strict=True):
        cell.text = text
    for row in (
        ("Bookkeeping and reconciliation", "USD 3,000.00", "Monthly"),
        ("Payroll administration (up to 40 staff)", "USD 1,500.00", "Monthly"),
        ("Year-end close support", "USD 2,500.00", "Once per year"),
    ):
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    more = [
        (
            "3. Term",
            "This Agreement begins on the Effective Date and continues for a term of 12 months. "
            "It renews automatically for successive 12-month periods unless either party gives "
            "notice of non-renewal.",
        ),
        (
            "4. Termination",
            "Either party may terminate this Agreement for convenience upon 60 days' written "
            "notice to the other party, or immediately if the other party materially breaches "
            "this Agreement and fails to cure the breach within 15 days.",
        ),
        (
            "5. Confidentiality",
            "Each party shall keep the other party's confidential information, including "
            "patient and payroll data, confidential and use it only to perform this Agreement.",
        ),
        (
            "6. Governing Law",
            "This Agreement is governed by the laws of the State of New York.",
        ),
    ]
    for title, text in more:
        d.add_heading(title, level=2)
        d.add_paragraph(text)
    d.add_paragraph("Signed by the parties' authorised representatives:")
    sig = d.add_table(rows=4, cols=2)
    values = [
        ("For Harborview Dental Group, P.C.", "For Cobalt Ledger Consulting Ltd."),
        ("Name: Priya Raman", "Name: Tomas Ferreira"),
        ("Title: Managing Partner", "Title: Director"),
        ("Date: January 15, 2025", "Date: January 15, 2025"),
    ]
    for row, (left, right) in zip(sig.rows, values, strict=True):
        row.cells[0].text = left
        row.cells[1].text = right

    buf = io.BytesIO()
    d.save(buf)
    path.write_bytes(_fixed_zip_times(buf.getvalue()))


def _fixed_zip_times(data: bytes) -> bytes:
    """python-docx stamps zip entries with the current time; pin them so output is stable."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 10, 9, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# Invoices come from the invoice type's own generator (pipeline/doctypes/invoice), with seeds
# outside its train and dev ranges: a German text PDF and a scanned US invoice.
INVOICES = {"invoice-werkstatt.pdf": 900025, "invoice-scan.jpg": 900007}


# A product datasheet in the Markdown layout of the manuals set (headings, pipe tables): an
# invented sensor module, with both condition tables and a revision history.
DATASHEET = """\
# Nordwind ENV-3 Environmental Sensor Module

**Product Reference Manual**

**SKU: NWD00031**

## Description

The Nordwind® ENV-3 is a compact environmental sensor module that measures temperature,
relative humidity, barometric pressure and indoor air quality. It connects to a host
microcontroller over I2C through two Qwiic-compatible connectors, so modules can be
daisy-chained without soldering.

## Target Areas

Building automation, greenhouse monitoring, weather stations, education

## Features

- **Microcontroller:** STM32C011F6 (Arm® Cortex®-M0+, 48 MHz) with the sensor firmware
- **Sensors:** SHT45 temperature and humidity, LPS22HH pressure, SGP41 VOC and NOx
- **Interfaces:** I2C (up to 1 MHz), one interrupt output
- **Indicator:** one status LED

## Technical Specifications

| Specification | Details |
| --- | --- |
| Temperature accuracy | ±0.2 °C |
| Humidity accuracy | ±1.8 %RH |
| Pressure range | 260 to 1260 hPa |
| I2C address | 0x44 (default), 0x45 |
| Flash memory | 32 KB |
| SRAM | 6 KB |
| Dimensions | 25.4 x 41 mm |
| Weight | 4 g |

## Ratings

### Recommended Operating Conditions

| Parameter | Symbol | Min | Typ | Max | Unit |
| --- | --- | --- | --- | --- | --- |
| Supply input voltage | VIN | 3.0 | 3.3 | 3.6 | V |
| Operating current | IOP | - | 4.5 | 48 | mA |
| Operating temperature | TOP | -20 | 25 | 70 | °C |

### Absolute Maximum Ratings

| Parameter | Symbol | Min | Typ | Max | Unit |
| --- | --- | --- | --- | --- | --- |
| Supply input voltage | VINMax | -0.3 | - | 4.0 | V |
| Storage temperature | TST | -40 | - | 85 | °C |

## Power Tree

The module is powered at 3.3 V from either Qwiic connector or from the VIN pad.

## Company Information

| Company name | Nordwind Sensorik GmbH |
| --- | --- |
| Company address | Hafenstraße 12, 24103 Kiel, Germany |

## Revision History

| Date | Revision | Changes |
| --- | --- | --- |
| 14/03/2025 | 1 | First release |
| 02/09/2025 | 2 | Absolute maximum ratings added |
"""


def main(out_dir: Path = OUT_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    cafe = render_receipt(CAFE, seed=7, angle=0.8)
    p = out_dir / "receipt-cafe.png"
    cafe.save(p, optimize=True)
    written.append(p)

    hardware = render_receipt(HARDWARE, seed=11, angle=-1.2)
    p = out_dir / "receipt-hardware.jpg"
    hardware.save(p, quality=82)
    written.append(p)

    p = out_dir / "receipt-bookshop.pdf"
    receipt_pdf(BOOKSHOP, p)
    written.append(p)

    p = out_dir / "contract-nda.pdf"
    contract_pdf(p)
    written.append(p)

    p = out_dir / "contract-supply.pdf"
    supply_pdf(p)
    written.append(p)

    p = out_dir / "contract-services.docx"
    services_docx(p)
    written.append(p)

    p = out_dir / "datasheet-env-sensor.md"
    p.write_text(DATASHEET, encoding="utf-8")
    written.append(p)

    for name, seed in INVOICES.items():
        p = out_dir / name
        p.write_bytes(invoice_render.render(invoice_generator.make(seed), seed)[0])
        written.append(p)
    return written


if __name__ == "__main__":
    import sys

    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR):
        print(f"{path.name}: {path.stat().st_size:,} bytes")
    for r in (CAFE, HARDWARE, BOOKSHOP):
        print(f"{r.merchant}: subtotal {money(r.subtotal)}, tax {money(r.tax)}, ", end="")
        print(f"total {money(r.total)}")
