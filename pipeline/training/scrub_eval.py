"""How well the scrubber works, on a labelled set built from real documents (`docket scrub eval`).

The set: real dev documents of every registered dataset (receipts, invoices, NDAs, commercial
contracts, datasheets), as Docket converts them, each with personal data of known kind and place put
between its lines: people's names (with a cue like "Cashier:" or bare, half of them from
locales the name list does not hold), phone numbers of several countries, e-mail addresses,
card numbers, IBANs, account numbers and national ids (US, Malaysia, UK, India, Singapore).
Everything put in is a label, so recall is exact; the dataset's own labels are the record's
fields, which must come out untouched. The set is rebuilt the same from a seed each time: no
document is copied into the repository.

Recall counts a value as scrubbed when every letter and digit of it lies inside a finding.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from pipeline.settings import Settings
from pipeline.training.scrub import Finding, Scrubber

PER_DATASET = 25  # documents from each registered dataset's dev split
TEXT_CHARS = 4000  # about what one prompt shows of a document
UNSEEN_NAME_LOCALES = ("pl_PL", "pt_BR", "tr_TR")  # not among scrub.NAME_LOCALES
SEEN_NAME_LOCALES = ("en_US", "en_GB", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT")


@dataclass
class Planted:
    kind: str
    value: str
    start: int
    end: int


@dataclass
class LabelledText:
    key: str  # dataset:key
    text: str
    planted: list[Planted]
    fields: list[str]  # the record's values that occur in the text


@dataclass
class ScrubReport:
    documents: int = 0
    planted: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    fields: int = 0
    fields_intact: int = 0
    other_findings: Counter[str] = field(default_factory=Counter)  # not planted: real or wrong
    missed: list[tuple[str, str]] = field(default_factory=list)
    broken_fields: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.found.values()) / max(1, sum(self.planted.values()))

    @property
    def intact(self) -> float:
        return self.fields_intact / max(1, self.fields)

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents, "pii_planted": sum(self.planted.values()),
            "pii_recall": round(self.recall, 4), "fields": self.fields,
            "fields_intact": round(self.intact, 4),
            "recall_by_kind": {k: round(self.found[k] / n, 4)
                               for k, n in sorted(self.planted.items())},
            "other_findings": dict(self.other_findings),
        }


def build(settings: Settings, seed: int = 17,
          datasets: dict[str, int] | None = None) -> list[LabelledText]:
    """The labelled set: dev documents of each registered dataset (or how many of which:
    `datasets`) with personal data planted."""
    from pipeline import doctypes
    from pipeline.training.datasets import convert_source, labelled_sources

    rng = random.Random(seed)
    out = []
    for dataset, count in (datasets or dict.fromkeys(doctypes.DATASETS, PER_DATASET)).items():
        sources = sorted((s for s in labelled_sources(dataset) if s.split == "dev"),
                         key=lambda s: s.key)
        taken = 0
        for source in sources:
            if taken == count:
                break
            document = convert_source(source, settings)
            if document is None or not document.text().strip():
                continue
            text = document.text()[:TEXT_CHARS]
            values = [v for raw in source.labels.values() for label in raw
                      for v in _strings(label) if len(v.strip()) >= 3]
            out.append(_plant(f"{dataset}:{source.key}", text, values, rng))
            taken += 1
    return out


def _strings(label: str) -> list[str]:
    """A label's string values: some datasets keep JSON (an object, a list), some the text."""
    from pipeline.training.corrections import record_strings

    try:
        return list(record_strings(json.loads(label)))
    except ValueError:
        return [label]


def _plant(key: str, text: str, values: list[str], rng: random.Random) -> LabelledText:
    lines = text.split("\n")
    put = []
    for _ in range(rng.randint(3, 5)):
        kind, value, line = _pii_line(rng)
        lines.insert(rng.randint(0, len(lines)), line)
        put.append((kind, value))
    text = "\n".join(lines)
    planted = []
    for kind, value in put:
        at = text.find(value)
        if at >= 0:
            planted.append(Planted(kind, value, at, at + len(value)))
    fields = sorted({v for v in values if _occurs(v, text)})
    return LabelledText(key, text, planted, fields)


def _occurs(value: str, text: str) -> bool:
    """Whether the value is in the text, case and the whitespace between words aside."""
    return " ".join(value.lower().split()) in " ".join(text.lower().split())


def _pii_line(rng: random.Random) -> tuple[str, str, str]:
    """A line holding one value of personal data: (its kind, the value, the line)."""
    kind = rng.choice(["PERSON", "PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD",
                       "IBAN_CODE", "ACCOUNT_NUMBER", "NATIONAL_ID"])
    faker = Faker(rng.choice(UNSEEN_NAME_LOCALES if rng.random() < 0.5 else SEEN_NAME_LOCALES))
    faker.seed_instance(rng.randrange(2**32))
    if kind == "PERSON":
        value = f"{faker.first_name()} {faker.last_name()}"
        template = rng.choice(["Cashier: {}", "Attn: Mr. {}", "Dear {},", "Served by {}",
                               "Signed: {}", "Contact person: {}", "{}",
                               "{} approved this copy", "Prepared for {} on request"])
    elif kind == "PHONE_NUMBER":
        value = rng.choice([
            lambda: Faker("en_US").numerify("(###) 555-0###"),
            lambda: f"+1 {rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
            lambda: f"0{rng.randint(3, 9)}-{rng.randint(1000000, 9999999)}",  # Malaysia, land
            lambda: f"+60 1{rng.randint(0, 9)}-{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            lambda: f"+44 20 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}",
            lambda: f"+49 30 {rng.randint(1000000, 9999999)}",
            lambda: f"+65 {rng.randint(6000, 9999)} {rng.randint(1000, 9999)}",
            lambda: f"+91 {rng.randint(70000, 99999)} {rng.randint(10000, 99999)}",
        ])()
        template = rng.choice(["Tel: {}", "Phone {}", "Call us at {}", "{}", "Mobile: {}"])
    elif kind == "EMAIL_ADDRESS":
        value = faker.email()
        template = rng.choice(["Email: {}", "Contact {} for questions", "{}"])
    elif kind == "CREDIT_CARD":
        digits = Faker("en_US").credit_card_number(
            card_type=rng.choice(["visa16", "mastercard", "amex", "discover"]))
        value = " ".join(digits[i:i + 4] for i in range(0, len(digits), 4)) \
            if rng.random() < 0.5 else digits
        template = rng.choice(["Card: {}", "Paid with card {}", "CARD NO {}", "{}"])
    elif kind == "IBAN_CODE":
        raw = Faker(rng.choice(["de_DE", "en_GB", "fr_FR", "nl_NL", "es_ES"])).iban()
        value = " ".join(raw[i:i + 4] for i in range(0, len(raw), 4)) \
            if rng.random() < 0.5 else raw
        template = rng.choice(["IBAN: {}", "Pay to {}", "{}"])
    elif kind == "ACCOUNT_NUMBER":
        value = "".join(str(rng.randrange(10)) for _ in range(rng.randint(8, 14)))
        template = rng.choice(["Account No: {}", "Bank account number {}", "A/C {}",
                               "Acct #{}"])
    else:
        value = _national_id(rng)
        template = rng.choice(["NRIC/ID: {}", "ID No. {}", "{}", "National ID {}"])
    return kind, value, template.format(value)


def _national_id(rng: random.Random) -> str:
    from stdnum import verhoeff

    choice = rng.randrange(5)
    if choice == 0:  # US SSN (valid area and group)
        return f"{rng.randint(100, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    if choice == 1:  # Malaysia NRIC: birth date, birthplace code, serial
        return (f"{rng.randint(50, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-"
                f"{rng.randint(1, 14):02d}-{rng.randint(1000, 9999)}")
    if choice == 2:  # UK National Insurance number
        prefix = rng.choice(["AB", "CE", "HJ", "JK", "NP", "RT", "WL", "ZY"])
        return f"{prefix} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} " \
               f"{rng.choice('ABCD')}"
    if choice == 3:  # India Aadhaar (Verhoeff check digit)
        body = str(rng.randint(2, 9)) + "".join(str(rng.randrange(10)) for _ in range(10))
        full = body + verhoeff.calc_check_digit(body)
        return f"{full[:4]} {full[4:8]} {full[8:]}"
    return f"{rng.choice('STFG')}{rng.randint(1000000, 9999999)}{rng.choice('ABCDEFGHIZJ')}"


def evaluate(texts: list[LabelledText], scrubber: Scrubber | None = None) -> ScrubReport:
    scrubber = scrubber or Scrubber()
    report = ScrubReport(documents=len(texts))
    for item in texts:
        result = scrubber.scrub(item.text, protected=item.fields)
        for planted in item.planted:
            report.planted[planted.kind] += 1
            if _covered(item.text, planted, result.findings):
                report.found[planted.kind] += 1
            else:
                report.missed.append((planted.kind, planted.value))
        for finding in result.findings:
            if not any(p.start < finding.end and finding.start < p.end for p in item.planted):
                report.other_findings[finding.kind] += 1
        for value in item.fields:
            report.fields += 1
            if _occurs(value, result.text):
                report.fields_intact += 1
            else:
                report.broken_fields.append(f"{item.key}: {value!r}")
    return report


def _covered(text: str, planted: Planted, findings: list[Finding]) -> bool:
    return all(any(f.start <= i < f.end for f in findings)
               for i in range(planted.start, planted.end) if text[i].isalnum())
