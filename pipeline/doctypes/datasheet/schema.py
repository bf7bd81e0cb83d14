"""Technical datasheets: what an engineer or a parts database needs from a product's manual.

Values are copied as printed (a datasheet's "4.8", "-40", "°C"); the record keeps them as
text, since specifications mix numbers, ranges ("6-24") and words ("Yes"), and adds what
the rules check: each condition's min ≤ typ ≤ max, and units a unit library knows (pint),
so a value can be converted and compared across products.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.common import DateText, RuleViolation, Text, clean_text, parse_date, parse_money

Short = Annotated[str, StringConstraints(max_length=40)] | None
Cell = Annotated[str, StringConstraints(max_length=24)] | None


class SpecificationDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: Annotated[str, StringConstraints(max_length=80)] | None
    name: Text
    value: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    unit: Cell


class ConditionDraft(BaseModel):
    """A row of an operating-conditions or absolute-maximum-ratings table."""

    model_config = ConfigDict(extra="forbid")
    parameter: Annotated[str, StringConstraints(max_length=240)] | None
    symbol: Cell
    min: Cell
    typ: Cell
    max: Cell
    unit: Cell


class DatasheetDraft(BaseModel):
    """What the model writes. Field order is decoding order: the identity of the product
    first, the tables (short) before the specifications (long), so a cut answer loses
    trailing specifications, not the product."""

    model_config = ConfigDict(extra="forbid")
    product_name: Text
    model_numbers: Annotated[list[Annotated[str, StringConstraints(min_length=2, max_length=30)]],
                             Field(max_length=8)]
    manufacturer: Text
    document_revision: Short
    document_revision_date: DateText
    microcontroller: Text
    operating_conditions: Annotated[list[ConditionDraft], Field(max_length=16)]
    absolute_maximum_ratings: Annotated[list[ConditionDraft], Field(max_length=16)]
    specifications: Annotated[list[SpecificationDraft], Field(max_length=48)]


class Specification(BaseModel):
    group: str | None = None
    name: str | None = None
    value: str
    unit: str | None = None


class Condition(BaseModel):
    parameter: str | None = None
    symbol: str | None = None
    min: str | None = None
    typ: str | None = None
    max: str | None = None
    unit: str | None = None


class Datasheet(BaseModel):
    """A validated datasheet: the revision date ISO with its printed text kept."""

    product_name: str | None = None
    model_numbers: list[str] = Field(default_factory=list)
    manufacturer: str | None = None
    document_revision: str | None = None
    document_revision_date: dt.date | None = None
    document_revision_date_text: str | None = Field(
        default=None, description="the revision date as printed")
    microcontroller: str | None = None
    operating_conditions: list[Condition] = Field(default_factory=list)
    absolute_maximum_ratings: list[Condition] = Field(default_factory=list)
    specifications: list[Specification] = Field(default_factory=list)


def _condition(row: ConditionDraft) -> Condition:
    return Condition(**{name: clean_text(value) for name, value in row.model_dump().items()})


def to_record(draft: DatasheetDraft) -> Datasheet:
    numbers: list[str] = []
    for number in draft.model_numbers:  # one entry per SKU, in printed order
        cleaned = clean_text(number)
        if cleaned and cleaned not in numbers:
            numbers.append(cleaned)
    return Datasheet(
        product_name=clean_text(draft.product_name),
        model_numbers=numbers,
        manufacturer=clean_text(draft.manufacturer),
        document_revision=clean_text(draft.document_revision),
        document_revision_date=parse_date(draft.document_revision_date),
        document_revision_date_text=clean_text(draft.document_revision_date),
        microcontroller=clean_text(draft.microcontroller),
        operating_conditions=[_condition(r) for r in draft.operating_conditions],
        absolute_maximum_ratings=[_condition(r) for r in draft.absolute_maximum_ratings],
        specifications=[Specification(group=clean_text(s.group), name=clean_text(s.name),
                                      value=clean_text(s.value) or s.value,
                                      unit=clean_text(s.unit))
                        for s in draft.specifications],
    )


# How datasheets print units that pint spells otherwise.
_UNIT_SPELLINGS = {"°c": "degC", "°f": "degF", "ºc": "degC", "℃": "degC", "Ω": "ohm",
                   "kΩ": "kiloohm", "mΩ": "milliohm", "%": "percent", "µa": "microampere",
                   "μa": "microampere", "µs": "microsecond", "μs": "microsecond",
                   "vdc": "volt", "vac": "volt", "v dc": "volt", "v ac": "volt",
                   "kb": "kilobyte", "mb": "megabyte", "gb": "gigabyte", "kbyte": "kilobyte",
                   "mbps": "megabit / second", "kbps": "kilobit / second",
                   "bps": "bit / second", "dbm": "decibel", "db": "decibel",
                   "rpm": "revolution / minute", "%rh": "percent", "lsb": "dimensionless",
                   "x": "dimensionless"}  # "USB-C | 1 x": a count


@functools.cache
def _units() -> Any:
    import pint

    return pint.UnitRegistry()


def unit_known(unit: str) -> bool:
    """Whether pint can read the unit (after the spellings datasheets use for °C, Ω, kB…)."""
    text = unit.strip()
    spelled = _UNIT_SPELLINGS.get(text) or _UNIT_SPELLINGS.get(text.lower())
    try:
        _units().parse_units(spelled or text)
    except Exception:  # pint raises several types for text it cannot read
        return False
    return True


def _number(text: str | None) -> Decimal | None:
    """A table cell's number ("-40", "4.8", "+85"); None for words, ranges and blanks."""
    if not text or any(ch.isalpha() for ch in text) or text.count("-") > 1:
        return None
    return parse_money(text.replace("+", "").replace("−", "-").replace("–", "-"))


def check_rules(sheet: Datasheet, today: dt.date | None = None) -> list[RuleViolation]:
    """The checks a parts librarian runs before a datasheet's figures are trusted."""
    today = today or dt.date.today()
    found: list[RuleViolation] = []

    def flag(rule: str, message: str, *fields: str) -> None:
        found.append(RuleViolation(rule=rule, message=message, fields=list(fields)))

    if sheet.product_name is None:
        flag("product_name_missing", "No product name was found.", "product_name")
    if sheet.document_revision_date_text and sheet.document_revision_date is None:
        flag("document_revision_date_invalid",
             f"The revision date '{sheet.document_revision_date_text}' is not a real date "
             "with a day, month and year.", "document_revision_date")
    elif sheet.document_revision_date and sheet.document_revision_date > today:
        flag("document_revision_date_in_future",
             f"The revision date {sheet.document_revision_date.isoformat()} is in the future.",
             "document_revision_date")
    for table in ("operating_conditions", "absolute_maximum_ratings"):
        for n, row in enumerate(getattr(sheet, table)):
            numbers = [(name, _number(getattr(row, name))) for name in ("min", "typ", "max")]
            given = [(name, value) for name, value in numbers if value is not None]
            if any(a[1] > b[1] for a, b in zip(given, given[1:], strict=False)):
                flag("limits_out_of_order",
                     f"{row.parameter or row.symbol or f'Row {n + 1}'}: "
                     + " ≤ ".join(f"{name} {value}" for name, value in given)
                     + " does not hold.", f"{table}[{n}]")
            if row.unit and not unit_known(row.unit):
                flag("unit_unknown", f"'{row.unit}' is not a unit Docket can convert "
                     f"({row.parameter or row.symbol}).", f"{table}[{n}].unit")
    for n, spec in enumerate(sheet.specifications):
        if spec.unit and not unit_known(spec.unit):
            flag("unit_unknown", f"'{spec.unit}' is not a unit Docket can convert "
                 f"({spec.name}).", f"specifications[{n}].unit")
    return found
