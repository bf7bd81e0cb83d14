"""Parsers and rule helpers shared by the record types: money, dates, currencies."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

import pycountry
from dateutil import parser as date_parser
from pydantic import BaseModel, Field, StringConstraints

# Symbols and local abbreviations printed on documents → ISO 4217. "$" alone is ambiguous;
# USD is the back-office default and the rule engine does not flag it.
_CURRENCY_ALIASES = {
    "$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR",
    "RM": "MYR", "S$": "SGD", "A$": "AUD", "C$": "CAD", "HK$": "HKD", "FR": "CHF",
}
_MONEY_CLEAN = re.compile(r"[^\d.,\-]")
# A numeric date inside longer text, e.g. OCR's "14/03/202508:42" (date and time run together).
_NUMERIC_DATE = re.compile(r"\b(\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2}))")
# Year first ("2025-11-07", "2025/11/07") is always year-month-day: dateutil's dayfirst
# would read it as the 11th of July.
_YEAR_FIRST = re.compile(r"\b(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})\b")
# Two defaults the parser fills a missing year from: a date that parses to the same year with
# both gives its own.
_PROBE_YEARS = (2000, 2004)  # both leap years: "29 February" without a year stays parseable


# What a model may write for values printed on documents. Bounds keep constrained decoding
# finite: a small model that starts repeating still ends.
Text = Annotated[str, StringConstraints(max_length=120)] | None
# Money and quantities as printed ("1,234.50", "-3.00"): digits only, so a model cannot
# wander into words or runaway digit strings.
AMOUNT_PATTERN = r"^-?[0-9]{1,7}([.,][0-9]{3}){0,2}([.,][0-9]{1,3})?$"  # bounded: no runaway
Amount = Annotated[str, StringConstraints(pattern=AMOUNT_PATTERN)] | None
DateText = Annotated[str, StringConstraints(max_length=30)] | None
# "MYR", "RM", "$", "US$": a code or a symbol, never an amount.
CURRENCY_PATTERN = r"^([A-Za-z]{2,3}|[$€£¥₹]|[A-Z]{1,2}\$)$"
Currency = Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)] | None


class RuleViolation(BaseModel):
    """A business rule a record breaks; `rule` is a stable name analysts can filter on."""

    rule: str
    message: str
    fields: list[str] = Field(default_factory=list)


def review_reason(violations: list[RuleViolation]) -> str:
    """The one-line reason a document needs review: every rule broken, with its message."""
    return "Needs review — " + "; ".join(
        f"{v.rule}: {v.message.rstrip('.')}" for v in violations) + "."


def parse_money(text: str | float | int | None) -> Decimal | None:
    """'RM 1,234.50' → Decimal('1234.50'); None when nothing numeric is there."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return Decimal(str(text))
    cleaned = _MONEY_CLEAN.sub("", text)
    if not cleaned or not any(ch.isdigit() for ch in cleaned):
        return None
    # "1.234,50" (European) vs "1,234.50": the last separator is the decimal point.
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        head, _, tail = cleaned.rpartition(",")
        decimal_comma = len(tail) in (1, 2)  # "12,5" / "12,50"; "1,234" is thousands
        cleaned = f"{head.replace(',', '')}.{tail}" if decimal_comma else cleaned.replace(",", "")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def parse_quantity(text: str | float | int | None) -> Decimal | None:
    return parse_money(text)


def parse_date(text: str | None, month_first: bool = False) -> dt.date | None:
    """A printed date in any common format → date; None if it is not a real date.

    Numeric dates are read day first (25/12/2018) unless `month_first` (US documents);
    a first number over 12 settles it either way. A date the text gives no year for ("the
    16th day of August", its year on the next line) is not a date: the parser would fill in
    this year, and a record dated by the machine's clock is wrong without a sign of it.
    """
    if not text or not any(ch.isdigit() for ch in text):
        return None
    if year_first := _YEAR_FIRST.search(text):
        try:
            return dt.date(*map(int, year_first.groups()))
        except ValueError:
            return None
    found = _NUMERIC_DATE.search(text)
    candidate = found.group(1) if found else text
    for dayfirst in ((False, True) if month_first else (True, False)):
        try:
            parsed = [date_parser.parse(candidate, dayfirst=dayfirst, fuzzy=True,
                                        default=dt.datetime(year, 1, 1))
                      for year in _PROBE_YEARS]
        except (ValueError, OverflowError):
            continue
        return parsed[0].date() if parsed[0].year == parsed[1].year else None
    return None


def normalize_currency(text: str | None) -> str | None:
    """'RM' → 'MYR', 'usd' → 'USD'; unknown text is returned upper-cased for the rule to flag."""
    if not text:
        return None
    cleaned = text.strip().upper()
    if cleaned in _CURRENCY_ALIASES:
        return _CURRENCY_ALIASES[cleaned]
    for symbol, code in _CURRENCY_ALIASES.items():
        if cleaned == symbol.upper():
            return code
    return cleaned


def is_known_currency(code: str) -> bool:
    return pycountry.currencies.get(alpha_3=code) is not None


def close_enough(a: Decimal, b: Decimal, tolerance: Decimal = Decimal("0.05")) -> bool:
    """Equal within rounding: 5 cents, or 0.5% for large amounts."""
    return abs(a - b) <= max(tolerance, abs(b) * Decimal("0.005"))


def clean_text(text: str | None) -> str | None:
    """Collapse white space; empty becomes None."""
    text = " ".join(text.split()) if text else None
    return text or None
