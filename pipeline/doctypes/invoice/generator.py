"""Realistic invoices with every field labelled, from a seed: the invoice type's training and
dev data, since no labelled public invoice set is at hand.

Each seed picks a country (its language, currency, date and number conventions, tax name and
rates, tax id and bank account formats), a seller and a buyer (Faker's locale data), lines,
terms and one of several layouts. Tax ids and IBANs carry valid check digits (python-stdnum
checks them), and the numbers add up, so a generated invoice passes every rule unless a
value is misread. `labels` is the draft the model should write: every value as printed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from faker import Faker
from stdnum import iban as stdnum_iban
from stdnum.util import get_cc_module

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Country:
    locale: str
    code: str
    language: str  # labels' language: en, de, fr, nl
    currency: str
    currency_marks: tuple[str, ...]  # how the currency is printed (the label copies it)
    decimal_comma: bool
    thousands: str  # "" for none
    date_formats: tuple[str, ...]  # strftime; %B only in English
    tax_rates: tuple[str, ...]
    tax_name: str
    page: tuple[float, float] = (595.0, 842.0)  # A4; US Letter for the US


COUNTRIES = (
    Country("en_US", "US", "en", "USD", ("USD", "$"), False, ",",
            ("%m/%d/%Y", "%B %d, %Y", "%b %d, %Y", "%Y-%m-%d"), ("0", "6", "7.25", "8.875"),
            "Sales Tax", (612.0, 792.0)),
    Country("en_GB", "GB", "en", "GBP", ("GBP", "£"), False, ",",
            ("%d/%m/%Y", "%d %B %Y", "%d %b %Y"), ("20", "5"), "VAT"),
    Country("en_AU", "AU", "en", "AUD", ("AUD", "A$"), False, ",",
            ("%d/%m/%Y", "%d %B %Y"), ("10",), "GST"),
    Country("en_IE", "IE", "en", "EUR", ("EUR", "€"), False, ",",
            ("%d/%m/%Y", "%d %B %Y", "%Y-%m-%d"), ("23", "13.5"), "VAT"),
    Country("de_DE", "DE", "de", "EUR", ("EUR", "€"), True, ".",
            ("%d.%m.%Y", "%Y-%m-%d"), ("19", "7"), "MwSt."),
    Country("de_AT", "AT", "de", "EUR", ("EUR", "€"), True, ".",
            ("%d.%m.%Y",), ("20", "10"), "USt."),
    Country("fr_FR", "FR", "fr", "EUR", ("EUR", "€"), True, "",
            ("%d/%m/%Y", "%Y-%m-%d"), ("20", "10", "5.5"), "TVA"),
    Country("nl_NL", "NL", "nl", "EUR", ("EUR", "€"), True, ".",
            ("%d-%m-%Y", "%d/%m/%Y"), ("21", "9"), "BTW"),
)

# Printed labels per language: what each field is called on the page.
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"title": ("INVOICE", "Invoice", "TAX INVOICE", "Commercial Invoice"),
           "number": ("Invoice No.", "Invoice #", "Invoice Number", "Invoice no:"),
           "date": ("Invoice Date", "Date", "Date of issue", "Issued"),
           "due": ("Due Date", "Payment due", "Due"),
           "po": ("PO Number", "Your order", "P.O. #", "Purchase Order"),
           "bill_to": ("Bill To", "BILL TO", "Invoice to", "Customer"),
           "description": ("Description", "Item", "Service"), "qty": ("Qty", "Quantity", "Hrs"),
           "unit": ("Unit Price", "Rate", "Price"), "amount": ("Amount", "Total", "Line Total"),
           "net": ("Subtotal", "Net amount", "Total excl. tax"),
           "total": ("Total", "TOTAL DUE", "Amount Due", "Total incl. tax", "Balance Due"),
           "tax_id": ("VAT No.", "VAT Reg No", "Tax ID"), "bank": ("IBAN", "Account"),
           "terms": ("Terms", "Payment terms")},
    "de": {"title": ("RECHNUNG", "Rechnung"),
           "number": ("Rechnungsnummer", "Rechnung Nr.", "Rechnungs-Nr."),
           "date": ("Rechnungsdatum", "Datum"), "due": ("Fällig am", "Zahlbar bis"),
           "po": ("Bestellnummer", "Ihre Bestellung"), "bill_to": ("Rechnungsempfänger", "An"),
           "description": ("Beschreibung", "Leistung", "Artikel"), "qty": ("Menge", "Anz."),
           "unit": ("Einzelpreis", "E-Preis"), "amount": ("Gesamt", "Betrag"),
           "net": ("Nettobetrag", "Summe netto", "Zwischensumme"),
           "total": ("Gesamtbetrag", "Rechnungsbetrag", "Summe brutto"),
           "tax_id": ("USt-IdNr.", "UID-Nr."), "bank": ("IBAN",),
           "terms": ("Zahlungsbedingungen", "Zahlungsziel")},
    "fr": {"title": ("FACTURE", "Facture"), "number": ("Facture n°", "N° de facture"),
           "date": ("Date de facture", "Date"), "due": ("Échéance", "Date d'échéance"),
           "po": ("Bon de commande", "Votre commande"), "bill_to": ("Facturé à", "Client"),
           "description": ("Désignation", "Description"), "qty": ("Qté", "Quantité"),
           "unit": ("Prix unitaire", "P.U. HT"), "amount": ("Montant HT", "Total HT"),
           "net": ("Total HT", "Montant HT"), "total": ("Total TTC", "Net à payer"),
           "tax_id": ("N° TVA", "TVA intracom."), "bank": ("IBAN",),
           "terms": ("Conditions de paiement", "Règlement")},
    "nl": {"title": ("FACTUUR", "Factuur"), "number": ("Factuurnummer", "Factuur nr."),
           "date": ("Factuurdatum", "Datum"), "due": ("Vervaldatum", "Te betalen voor"),
           "po": ("Uw referentie", "Inkoopordernummer"), "bill_to": ("Factuuradres", "Aan"),
           "description": ("Omschrijving",), "qty": ("Aantal",), "unit": ("Prijs", "Stukprijs"),
           "amount": ("Bedrag", "Totaal"), "net": ("Subtotaal", "Totaal excl. BTW"),
           "total": ("Totaal", "Te betalen", "Totaal incl. BTW"), "tax_id": ("BTW-nummer",),
           "bank": ("IBAN",), "terms": ("Betalingstermijn", "Betalingsvoorwaarden")},
}

# Look-alikes: documents laid out like an invoice that are not one. The router must not send
# them to the invoice adapter (a purchase order booked as a bill is paid twice).
LOOKALIKE_WORDS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "purchase_order": {
        "en": {"title": ("PURCHASE ORDER", "Purchase Order"), "number": ("PO Number", "Order No."),
               "date": ("Order Date",), "due": ("Delivery Date", "Deliver by"),
               "bill_to": ("Vendor", "Supplier"), "total": ("Order Total",)},
        "de": {"title": ("BESTELLUNG",), "number": ("Bestellnummer",), "date": ("Bestelldatum",),
               "due": ("Liefertermin",), "bill_to": ("Lieferant",), "total": ("Bestellwert",)},
        "fr": {"title": ("BON DE COMMANDE",), "number": ("Commande n°",),
               "date": ("Date de commande",), "due": ("Livraison",),
               "bill_to": ("Fournisseur",), "total": ("Total commande",)},
        "nl": {"title": ("INKOOPORDER",), "number": ("Ordernummer",), "date": ("Orderdatum",),
               "due": ("Leverdatum",), "bill_to": ("Leverancier",), "total": ("Totaal order",)},
    },
    "quote": {
        "en": {"title": ("QUOTATION", "Quote", "ESTIMATE"), "number": ("Quote No.", "Estimate #"),
               "date": ("Date",), "due": ("Valid until",), "bill_to": ("Prepared for",),
               "total": ("Total (estimate)",)},
        "de": {"title": ("ANGEBOT",), "number": ("Angebotsnummer",), "date": ("Datum",),
               "due": ("Gültig bis",), "bill_to": ("Für",), "total": ("Angebotssumme",)},
        "fr": {"title": ("DEVIS",), "number": ("Devis n°",), "date": ("Date",),
               "due": ("Valable jusqu'au",), "bill_to": ("Client",), "total": ("Total TTC",)},
        "nl": {"title": ("OFFERTE",), "number": ("Offertenummer",), "date": ("Datum",),
               "due": ("Geldig tot",), "bill_to": ("Klant",), "total": ("Totaal",)},
    },
}

TERMS = {
    "en": ("Net {d}", "Payment due within {d} days", "{d} days net", "Due on receipt"),
    "de": ("Zahlbar innerhalb von {d} Tagen ohne Abzug", "{d} Tage netto"),
    "fr": ("Paiement à {d} jours", "À réception de facture"),
    "nl": ("Betaling binnen {d} dagen", "{d} dagen netto"),
}

# (description, unit price range, whole quantities?): what small firms invoice each other for.
LINES = (
    ("Consulting services", (60, 180), False), ("Software development", (70, 150), False),
    ("Annual software licence", (200, 4000), True),
    ("Website hosting (12 months)", (60, 600), True),
    ("Steel bracket M8", (1, 12), True), ("Office chair, ergonomic", (120, 480), True),
    ("Printer toner cartridge", (25, 140), True), ("A4 copy paper, 5 reams", (18, 45), True),
    ("Graphic design", (40, 120), False), ("Translation (per 1000 words)", (60, 160), True),
    ("On-site installation", (80, 140), False), ("Maintenance contract Q3", (150, 900), True),
    ("Cloud storage 1 TB", (5, 20), True), ("Laptop stand, aluminium", (25, 80), True),
    ("Training workshop (1 day)", (450, 1800), True), ("Freight and handling", (15, 250), True),
    ("LED panel 60x60", (20, 70), True), ("Copper cable 2.5 mm2 (100 m)", (45, 130), True),
    ("Legal advice", (150, 400), False), ("Bookkeeping services", (40, 95), False),
    ("Catering for 20 people", (180, 650), True), ("Replacement pump seal", (8, 60), True),
    ("SEO audit", (300, 1500), True), ("Photography session", (150, 700), True),
    ("Pallet of wood pellets", (180, 320), True), ("Safety gloves (box of 100)", (9, 30), True),
)


@dataclass
class InvoiceData:
    """One generated invoice: what is printed (as text) and its labels (the draft)."""

    country: Country
    words: dict[str, str]  # the label chosen for each field
    seller: list[str]  # name, address lines
    seller_extra: list[str]  # phone, e-mail, tax id line
    buyer: list[str]
    meta: list[tuple[str, str]]  # (label, value) pairs: number, dates, PO
    lines: list[tuple[str, str, str, str]]  # description, qty, unit price, amount as printed
    totals: list[tuple[str, str]]  # (label, printed amount)
    footer: list[str]  # terms, bank, notes
    currency_mark: str
    mark_before: bool
    labels: dict[str, Any] = field(default_factory=dict)
    layout: int = 0
    scanned: bool = False


def money(value: Decimal, country: Country) -> str:
    text = f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"
    if country.decimal_comma:
        text = text.replace(",", "\0").replace(".", ",").replace("\0", country.thousands)
    elif not country.thousands:
        text = text.replace(",", "")
    return text


def _rate_text(rate: str, country: Country) -> str:
    return rate.replace(".", ",") if country.decimal_comma else rate


def valid_vat(country: str, rng: random.Random) -> str:
    """A VAT number of the country's shape that passes its check digits."""
    module = get_cc_module(country.lower(), "vat")
    for _ in range(100_000):
        if country == "US":
            candidate = f"{rng.randint(10, 99)}-{rng.randint(0, 9999999):07d}"
            from stdnum.us import ein
            if ein.is_valid(candidate):
                return candidate
            continue
        digits = "".join(rng.choice("0123456789") for _ in range(11))
        candidate = {
            "GB": f"GB{digits[:9]}", "DE": f"DE{rng.randint(1, 9)}{digits[:8]}",
            "AT": f"ATU{digits[:8]}", "FR": f"FR{digits[:11]}", "NL": f"NL{digits[:9]}B01",
            "IE": f"IE{digits[:7]}{rng.choice('ABCDEFGHW')}",
            "AU": digits[:11],
        }[country]
        if country == "AU":
            from stdnum.au import abn
            if abn.is_valid(candidate):
                return abn.format(candidate)
        elif module is not None and module.is_valid(candidate):
            return candidate
    raise RuntimeError(f"no valid {country} tax id found")  # pragma: no cover


def _spaced(text: str, every: int = 4) -> str:
    return " ".join(text[i:i + every] for i in range(0, len(text), every))


def bank_account(country: Country, fake: Faker, rng: random.Random) -> tuple[str, str]:
    """(label, printed value): an IBAN with valid check digits, or the local form."""
    if country.code == "US":
        return "Account", f"{rng.randint(10 ** 9, 10 ** 10 - 1)}"
    if country.code == "AU":
        return "Account", f"{rng.randint(10 ** 7, 10 ** 8 - 1)}"
    for _ in range(100):
        number = fake.iban()
        if number.startswith(country.code) and stdnum_iban.is_valid(number):
            return "IBAN", _spaced(number) if rng.random() < 0.6 else number
    raise RuntimeError(f"Faker gave no valid {country.code} IBAN")  # pragma: no cover


def _address(fake: Faker) -> list[str]:
    return [line.strip() for line in fake.address().split("\n") if line.strip()]


def make(seed: int, kind: str = "invoice") -> InvoiceData:
    """The invoice of this seed; `kind` 'purchase_order' or 'quote' makes a look-alike (its
    labels are not an invoice's and train nothing but the router)."""
    rng = random.Random(seed)
    country = rng.choice(COUNTRIES)
    fake = Faker(country.locale)
    fake.seed_instance(seed)
    words = {key: rng.choice(options) for key, options in WORDS[country.language].items()}
    if kind != "invoice":
        words |= {key: rng.choice(options)
                  for key, options in LOOKALIKE_WORDS[kind][country.language].items()}
    currency_mark = rng.choice(country.currency_marks)
    mark_before = currency_mark in "$£€A$" and rng.random() < 0.7

    seller_name, buyer_name = fake.company(), fake.company()
    seller_address, buyer_address = _address(fake), _address(fake)
    tax_id = valid_vat(country.code, rng)
    tax_label = "ABN" if country.code == "AU" else ("EIN" if country.code == "US"
                                                     else words["tax_id"])
    has_tax_id = rng.random() < 0.9
    seller_extra = [f"Tel: {fake.phone_number()}", fake.company_email()]
    if has_tax_id:
        seller_extra.append(f"{tax_label}: {tax_id}")
    rng.shuffle(seller_extra)

    issue = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randint(0, 4 * 365 + 200))
    days = rng.choice((7, 14, 14, 30, 30, 30, 45, 60))
    due = issue + dt.timedelta(days=days)
    date_format = rng.choice(country.date_formats)
    number = rng.choice((
        f"INV-{issue.year}-{rng.randint(1, 9999):04d}", f"{issue.year}{rng.randint(1, 999):03d}",
        f"{rng.randint(10000, 99999)}", f"RE-{rng.randint(100, 99999)}",
        f"{fake.lexify('??').upper()}{rng.randint(1000, 999999)}",
        f"F{issue.strftime('%y%m')}-{rng.randint(1, 300):03d}"))
    po = rng.choice((f"PO-{rng.randint(1000, 99999)}", f"{rng.randint(4500000000, 4599999999)}",
                     f"ORD/{issue.year}/{rng.randint(1, 9999)}")) if rng.random() < 0.5 else None
    meta = [(words["number"], number), (words["date"], issue.strftime(date_format))]
    has_due = rng.random() < 0.75
    if has_due:
        meta.append((words["due"], due.strftime(date_format)))
    if po:
        meta.append((words["po"], po))

    lines, net = [], Decimal(0)
    for description, (low, high), whole in rng.sample(LINES, rng.randint(1, 8)):
        unit = Decimal(rng.randint(low * 100, high * 100)) / 100
        if rng.random() < 0.5:
            unit = unit.quantize(Decimal(1))
        qty = Decimal(rng.randint(1, 12)) if whole else Decimal(rng.choice(
            ("1", "2", "3.5", "4", "7.5", "8", "12", "16", "0.5", "24")))
        amount = (unit * qty).quantize(CENT, rounding=ROUND_HALF_UP)
        net += amount
        qty_text = f"{qty:g}".replace(".", ",") if country.decimal_comma else f"{qty:g}"
        lines.append((description, qty_text, money(unit, country), money(amount, country)))
    rate = rng.choice(country.tax_rates)
    tax = (net * Decimal(rate) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    total = net + tax
    totals = [(words["net"], money(net, country)),
              (f"{country.tax_name} {_rate_text(rate, country)}%", money(tax, country)),
              (words["total"], money(total, country))]

    terms_text = rng.choice(TERMS[country.language]).format(d=days)
    has_terms = rng.random() < 0.8
    bank_label, account = bank_account(country, fake, rng)
    has_bank = rng.random() < 0.85
    footer = []
    if has_terms:
        footer.append(f"{words['terms']}: {terms_text}")
    if has_bank and kind == "invoice":
        if country.code == "US":
            footer.append(f"Bank: {fake.company()} Bank · Routing {rng.randint(10**8, 10**9-1)}"
                          f" · {bank_label} {account}")
        elif country.code == "AU":
            footer.append(f"BSB {rng.randint(100, 999)}-{rng.randint(100, 999)} · "
                          f"{bank_label} {account}")
        else:
            footer.append(f"{bank_label}: {account}")
    footer.append(rng.choice(("Thank you for your business.", "", fake.catch_phrase()))
                  if country.language == "en" else "")

    labels = {
        "invoice_number": number,
        "issue_date": issue.strftime(date_format),
        "due_date": due.strftime(date_format) if has_due else None,
        "po_number": po,
        "seller_name": seller_name,
        "seller_address": " ".join(seller_address),
        "seller_tax_id": tax_id if has_tax_id else None,
        "buyer_name": buyer_name,
        "buyer_address": " ".join(buyer_address),
        "currency": currency_mark,
        "net": money(net, country),
        "tax_rate": _rate_text(rate, country),
        "tax": money(tax, country),
        "total": money(total, country),
        "payment_terms": terms_text if has_terms else None,
        "bank_account": account if has_bank else None,
        "items": [{"description": d, "quantity": q, "unit_price": u, "amount": a}
                  for d, q, u, a in lines],
    }
    return InvoiceData(country, words, [seller_name, *seller_address], seller_extra,
                       [buyer_name, *buyer_address], meta, lines, totals,
                       [f for f in footer if f], currency_mark, mark_before, labels,
                       layout=rng.randrange(3), scanned=rng.random() < 0.3)
