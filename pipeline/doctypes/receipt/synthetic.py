"""Synthetic receipts with every field labelled, to teach what SROIE does not label.

SROIE labels four fields (company, date, address, total). An adapter trained on those alone
never learns when an item list ends, nor subtotal, tax, currency or payment; the base model's
item lists run to the token budget (slow, cut answers). A few hundred generated
receipts, laid out as OCR reads a till slip (one text box a line, columns split), carry full
labels for those fields; SROIE's unlabelled fields are left out of the loss, so each source
teaches only what it knows.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from pipeline.doctypes.base import Synthetic

CENT = Decimal("0.01")

_MERCHANTS = [
    ("SUNRISE MINI MARKET", "MY"),
    ("KEDAI RUNCIT AH SENG", "MY"),
    ("RESTORAN NASI KANDAR ALI", "MY"),
    ("TOKO BUKU PELANGI SDN BHD", "MY"),
    ("GREEN LEAF PHARMACY", "MY"),
    ("ORCHID BAKERY & CAFE", "MY"),
    ("MAPLE STREET DELI", "US"),
    ("BLUE HERON COFFEE CO.", "US"),
    ("HILLTOP HARDWARE", "US"),
    ("CORNER BOOK NOOK", "US"),
    ("THE RED LANTERN", "UK"),
    ("HIGHGATE NEWSAGENTS", "UK"),
    ("BÄCKEREI SONNENSCHEIN", "EU"),
    ("CAFÉ DES ARTS", "EU"),
    ("FARMACIA CENTRALE", "EU"),
]
_STREETS = {
    "MY": [
        "NO. 12, JALAN MERDEKA 3, TAMAN SRI MUDA",
        "LOT 5, JALAN PUCHONG, BANDAR PUTERI",
        "23 JALAN SS2/24, PETALING JAYA",
    ],
    "US": ["418 Main Street", "77 Harbor Road", "1200 Elm Avenue Suite 4"],
    "UK": ["14 High Street", "3 Market Place"],
    "EU": ["Hauptstraße 21", "12 Rue de la Paix", "Via Roma 8"],
}
_CITIES = {
    "MY": ["40460 SHAH ALAM, SELANGOR", "47100 PUCHONG, SELANGOR", "81100 JOHOR BAHRU, JOHOR"],
    "US": ["Burlington, VT 05401", "Portland, ME 04101", "Madison, WI 53703"],
    "UK": ["London N6 4BD", "York YO1 7HH"],
    "EU": ["10115 Berlin", "75002 Paris", "00184 Roma"],
}
_ITEMS = [
    "MINERAL WATER 500ML",
    "WHITE BREAD",
    "FRESH MILK 1L",
    "EGGS 10S",
    "TEH TARIK",
    "NASI LEMAK",
    "Flat White",
    "Croissant",
    "Blueberry Muffin",
    "Turkey Sandwich",
    "Iced Latte",
    "Bagel",
    "A4 PAPER 80GSM",
    "BALL PEN BLUE",
    "PAINT BRUSH 2IN",
    "Wood Screws 100pk",
    "LED Bulb 9W",
    "Paracetamol 500mg",
    "Vitamin C 1000",
    "Hand Soap 250ml",
    "Notebook A5",
    "Greeting Card",
    "Roti Canai",
    "Mee Goreng",
    "Kopi O Ais",
    "Chicken Rice",
    "Orange Juice",
    "Apple Pie",
]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_PAYMENTS = ["CASH", "VISA", "MASTERCARD", "DEBIT CARD", "Touch 'n Go eWallet", "AMEX"]
_STYLE = {  # currency as printed, tax label, tax rate, month-first dates
    "MY": (["RM", "MYR"], ["GST 6%", "SST 6%", "SR 6%"], Decimal("0.06"), False),
    "US": (["$", "USD"], ["Sales Tax 8%", "Tax 6.25%", "TAX"], Decimal("0.0725"), True),
    "UK": (["£", "GBP"], ["VAT 20%", "VAT"], Decimal("0.20"), False),
    "EU": (["€", "EUR"], ["MwSt 19%", "TVA 20%", "IVA 22%"], Decimal("0.20"), False),
}


def _money(value: Decimal, decimal_comma: bool = False) -> str:
    text = f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"
    return text.replace(".", ",") if decimal_comma else text


def receipt(seed: int) -> Synthetic:
    """One receipt; the same seed always gives the same receipt."""
    rng = random.Random(seed)
    merchant, region = rng.choice(_MERCHANTS)
    currencies, tax_labels, rate, month_first = _STYLE[region]
    currency = rng.choice(currencies)
    comma = region == "EU" and rng.random() < 0.5
    address_lines = [rng.choice(_STREETS[region]), rng.choice(_CITIES[region])]
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2016, 2025)
    date = rng.choice(
        [
            f"{month:02d}/{day:02d}/{year}" if month_first else f"{day:02d}/{month:02d}/{year}",
            f"{day:02d}-{month:02d}-{year}"
            if not month_first
            else f"{month}/{day}/{year % 100:02d}",
            f"{day} {_MONTHS[month - 1]} {year}",
        ]
    )
    items = []
    for name in rng.sample(_ITEMS, rng.randint(1, 6)):
        qty = rng.choice([1, 1, 1, 2, 3])
        unit = Decimal(rng.randint(80, 4500)) / 100
        items.append((name, qty, unit, (unit * qty).quantize(CENT)))
    subtotal = sum((amount for *_, amount in items), Decimal(0))
    has_tax = rng.random() < 0.8
    tax = (subtotal * rate).quantize(CENT, rounding=ROUND_HALF_UP) if has_tax else None
    total = subtotal + (tax or Decimal(0))
    payment = rng.choice(_PAYMENTS)

    lines = [merchant]
    if region == "MY":
        lines.append(f"({rng.randint(100000, 999999)}-{rng.choice('AKDTMPU')})")
    lines += address_lines
    lines.append(
        rng.choice(
            [
                f"TEL: 0{rng.randint(3, 9)}-{rng.randint(1000000, 9999999)}",
                f"Tel ({rng.randint(200, 999)}) 555-{rng.randint(1000, 9999)}",
            ]
        )
    )
    lines.append(rng.choice(["TAX INVOICE", "RECEIPT", "SIMPLIFIED TAX INVOICE", ""]))
    lines.append(
        rng.choice(
            [
                f"Date: {date}",
                f"DATE : {date} {rng.randint(8, 21):02d}:{rng.randint(0, 59):02d}",
                date,
            ]
        )
    )
    lines.append(f"{rng.choice(['Receipt #', 'INV NO', 'Bill No'])}: {rng.randint(1000, 99999)}")
    split_columns = rng.random() < 0.5  # OCR often returns each column as its own box
    lines.append("ITEM QTY PRICE AMOUNT" if not split_columns else "DESCRIPTION")
    for name, qty, unit, amount in items:
        if split_columns:
            lines += [name, f"{qty} x {_money(unit, comma)}", _money(amount, comma)]
        else:
            lines.append(f"{name} {qty} {_money(unit, comma)} {_money(amount, comma)}")
    lines.append(f"SUBTOTAL {_money(subtotal, comma)}")
    tax_label = rng.choice(tax_labels)
    if tax is not None:
        lines.append(f"{tax_label} {_money(tax, comma)}")
    lines.append(f"TOTAL {currency} {_money(total, comma)}")
    lines.append(f"{payment} {_money(total, comma)}")
    lines.append(
        rng.choice(["THANK YOU", "Thank you, come again!", "GOODS SOLD ARE NOT RETURNABLE"])
    )

    labels = {
        "merchant_name": merchant,
        "merchant_address": " ".join(address_lines),
        "date": date,
        "currency": currency,
        "subtotal": _money(subtotal, comma),
        "tax": _money(tax, comma) if tax is not None else None,
        "total": _money(total, comma),
        "payment_method": payment,
        "items": [
            {
                "description": name,
                "quantity": str(qty),
                "unit_price": _money(unit, comma),
                "amount": _money(amount, comma),
            }
            for name, qty, unit, amount in items
        ],
    }
    return Synthetic(f"synthetic-{seed}", "\n".join(line for line in lines if line), labels)
