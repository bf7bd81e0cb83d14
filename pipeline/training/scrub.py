"""Personal data out of training examples: detected, then replaced by consistent surrogates.

A reviewed document teaches the adapter only after the personal data in it that is not itself
a field of its record (card and account numbers, IBANs, phone numbers, e-mail addresses,
national ids, IP addresses, people's names) is replaced by a surrogate of the same shape: a
Luhn-valid card number of the same length and grouping, an IBAN of the same country with valid
check digits, a phone number with the same separators, a person's name from Faker. The same
original gets the same surrogate throughout a training run (a keyed hash picks it), so a name
that appears three times stays one person. The record's own values are protected: a detection
that overlaps one is left alone, so the adapter still learns to copy the fields.

Detectors are well-kept libraries: presidio's recognizers (cards, IBANs, e-mail, phones through
phonenumbers, US SSNs, UK NHS numbers, IP addresses) on a blank spaCy pipeline (no statistical
model can be fetched here), python-stdnum's validators for national ids, and, for people's
names, Faker's first-name lists plus the cues that introduce a name ("Mr", "Attn:", "Cashier:").
Nothing here fetches anything at run time (tldextract reads its bundled suffix list).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import random
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import regex  # Unicode letter classes: "Çorlu", "Vitória" are names too

NAME_LOCALES = ("en_US", "en_GB", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL",
                "id_ID")
PHONE_REGIONS = ("US", "GB", "MY", "SG", "IN", "DE", "FR", "AU", "CA", "NL", "ES", "IT", "ID",
                 "PH", "HK", "CN", "JP", "BR")
# Words that open a name; the capitalised words after them are the name.
TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam|Mdm|Dato'?|Datuk|Tan Sri|Encik|Puan)\.?"
LABEL_CUES = (r"(?:Attn|Attention|Name|Customer|Cashier|Served by|Server|Signed|Signature|"
              r"Contact|Contact person|Prepared by|Issued to|Bill to|Ship to|Dear|Employee|"
              r"Recipient|Patient|Member|Guest|Driver|Salesperson|Sales person|Agent|"
              r"Host|Staff|Clerk|Operator)\s*[:,-]?")
NAME_CUES = f"{TITLES}|{LABEL_CUES}"
COMPANY_WORDS = {"inc", "ltd", "llc", "llp", "plc", "corp", "corporation", "company", "co",
                 "sdn", "bhd", "gmbh", "ag", "sa", "bv", "nv", "pte", "limited", "group",
                 "holdings", "enterprise", "enterprises", "trading", "restaurant", "store",
                 "mart", "bank", "university", "services", "systems", "technologies"}
# Words that follow a name on a line but are no part of it.
LABEL_WORDS = {"tel", "phone", "fax", "email", "e-mail", "mobile", "date", "time", "total",
               "no", "bill", "table", "cashier", "counter", "terminal", "id",
               "nric", "card", "account", "iban", "ref", "page", "qty", "amount", "the", "and",
               "for", "from", "to", "of", "on", "at", "by", "with"}
# First names that are also everyday words in documents: a capitalised one is not a cue.
COMMON_WORDS = {"will", "may", "june", "april", "august", "grant", "bill", "mark", "rose",
                "page", "art", "sale", "total", "cash", "change", "tax", "item", "price",
                "date", "time", "table", "bank", "card", "china", "summer", "winter", "autumn",
                "dawn", "faith", "hope", "joy", "sky", "star", "king", "lord", "major", "case",
                "chase", "rich", "guy", "jack", "sterling", "penny", "ray", "max", "amber",
                "iris", "jade", "ruby", "pearl", "crystal", "river", "forest", "glen", "dale",
                "lane", "park", "hall", "baker", "miller", "carter", "cooper", "hunter", "mason",
                "porter", "parker", "tucker", "young", "long", "short", "west",
                "north", "south", "east", "van", "de", "la", "le", "del", "da", "di", "von",
                "ben", "mac", "said", "an", "ali", "ada", "else", "per", "lot", "sung",
                "son", "man", "pin", "tan", "lim", "lee", "ng", "ong", "wong", "chan"}


@dataclass(frozen=True)
class Finding:
    kind: str  # PERSON, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, EMAIL_ADDRESS, NATIONAL_ID, ...
    start: int
    end: int
    text: str
    partial: bool = False  # what is left of it beside a record's value: replaced letter by letter


@dataclass
class Scrubbed:
    text: str
    findings: list[Finding]  # what was replaced, in the original's offsets
    surrogates: dict[str, str] = field(default_factory=dict)  # original → surrogate


class Scrubber:
    """Detect and replace personal data. One instance per training run: its key makes the
    same original map to the same surrogate across the run's documents, and only there (a key
    from `DOCKET_SCRUB_KEY` makes it the same across runs)."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or secrets.token_bytes(32)
        self.surrogates: dict[tuple[str, str], str] = {}

    # --- detection ------------------------------------------------------------------------

    def find(self, text: str, protected: Iterable[str] = ()) -> list[Finding]:
        """Personal data in `text`, less the `protected` values (the record's) and their parts:
        "Mr. Smith" stays when the record holds "John Smith"; of a card number whose first
        digits the record holds ("VISA 4111"), the rest is still found."""
        protected = list(protected)
        guarded = _spans_of(text, protected)
        inside = " \n".join(value.casefold() for value in protected)
        findings = [*_presidio_findings(text), *_cards(text), *_possible_phones(text),
                    *_national_ids(text), *_account_numbers(text), *_names(text)]
        kept = []
        for f in findings:
            if f.text.casefold() in inside:
                continue
            overlaps = sorted((s, e) for s, e in guarded if f.start < e and s < f.end)
            kept += _outside(text, f, overlaps) if overlaps else [f]
        return _without_overlaps(kept)

    def scrub(self, text: str, protected: Iterable[str] = ()) -> Scrubbed:
        """`text` with each finding replaced by its surrogate."""
        findings = self.find(text, protected)
        out, last, used = [], 0, {}
        for f in findings:
            surrogate = self.surrogate("PART" if f.partial else f.kind, f.text)
            used[f.text] = surrogate
            out += [text[last:f.start], surrogate]
            last = f.end
        out.append(text[last:])
        return Scrubbed("".join(out), findings, used)

    def apply(self, text: str, surrogates: dict[str, str]) -> str:
        """Replace these originals wherever they occur (the target, after the prompt)."""
        for original in sorted(surrogates, key=len, reverse=True):  # whole words only
            text = re.sub(rf"(?<!\w){re.escape(original)}(?!\w)",
                          surrogates[original].replace("\\", r"\\"), text)
        return text

    # --- surrogates -----------------------------------------------------------------------

    def surrogate(self, kind: str, original: str) -> str:
        key = (kind, original)
        if key not in self.surrogates:
            seed = hmac.new(self.key, f"{kind}\0{original}".encode(), hashlib.sha256).digest()
            rng = random.Random(seed)
            maker = _MAKERS.get(kind, _same_shape)
            made = maker(original, rng)
            self.surrogates[key] = made if made != original else _same_shape(original, rng)
        return self.surrogates[key]


# --- detectors -------------------------------------------------------------------------------

@functools.cache
def _analyzer() -> Any:
    """presidio's analyzer with the pattern and checksum recognizers, on a blank spaCy
    pipeline (tokens only: there is no statistical model to fetch here)."""
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        NhsRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        """presidio's e-mail check, with tldextract's bundled list (no download)."""

        def validate_result(self, pattern_text: str) -> bool:
            return bool(offline(pattern_text).fqdn)

    class BlankEnglish(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp: Any = {"en": spacy.blank("en")}

    engine = BlankEnglish(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (CreditCardRecognizer(), IbanRecognizer(), OfflineEmailRecognizer(),
                       PhoneRecognizer(supported_regions=PHONE_REGIONS),  # valid numbers
                       UsSsnRecognizer(),
                       NhsRecognizer(), IpRecognizer()):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


def _presidio_findings(text: str) -> list[Finding]:
    results = _analyzer().analyze(text, language="en", score_threshold=0.3)
    return [Finding(r.entity_type, r.start, r.end, text[r.start:r.end]) for r in results]


_PHONE_CUE = re.compile(r"(?i)(?:tel|phone|mobile|mob|fax|call|hp|whatsapp|contact)\W{0,4}$")


def _possible_phones(text: str) -> list[Finding]:
    """Numbers phonenumbers finds merely *possible* (a plan it does not know, a new range),
    kept only where a cue says they are phones ("Tel:", "call") or they start with "+":
    without one, every long number of a datasheet would look like a phone."""
    import phonenumbers

    out = []
    for region in ("US", "MY", "GB"):
        for match in phonenumbers.PhoneNumberMatcher(text, region,
                                                     leniency=phonenumbers.Leniency.POSSIBLE):
            cued = _PHONE_CUE.search(text[max(0, match.start - 24):match.start])
            if cued or match.raw_string.startswith("+"):
                out.append(Finding("PHONE_NUMBER", match.start, match.end, match.raw_string))
    return out


# National ids with a fixed shape, checked by python-stdnum's validators.
_ID_SHAPES: tuple[tuple[str, str], ...] = (  # (shape, validator module; "" = the shape only)
    (r"\b\d{6}-\d{2}-\d{4}\b", "stdnum.my.nric"),  # Malaysia (MyKad)
    (r"\b[STFGM]\d{7}[A-Z]\b", ""),  # Singapore NRIC/FIN: stdnum has no validator; its shape
    (r"\b[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", ""),  # UK NINO: its shape
    (r"\b\d{4}\s\d{4}\s\d{4}\b", "stdnum.in_.aadhaar"),  # India
    (r"\b[A-Z]{5}\d{4}[A-Z]\b", "stdnum.in_.pan"),  # India (PAN)
    (r"\b\d{3}-\d{2}-\d{4}\b", "stdnum.us.ssn"),  # United States
    (r"\b\d{8}[A-Z]\b", "stdnum.es.dni"),  # Spain
    (r"\b[12]\s?\d{2}\s?\d{2}\s?\d{2}\s?\d{3}\s?\d{3}\s?\d{2}\b", "stdnum.fr.nir"),  # France
)


_CARD = re.compile(r"\b[2-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{1,7}\b")


def _cards(text: str) -> list[Finding]:
    """Card numbers presidio's pattern misses (Mastercard's 2-series): 13 to 19 digits from a
    card network's first digit, passing python-stdnum's Luhn check."""
    from stdnum import luhn

    out = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            out.append(Finding("CREDIT_CARD", match.start(), match.end(), match.group(0)))
    return out


def _national_ids(text: str) -> list[Finding]:
    import importlib

    out = []
    for pattern, module_name in _ID_SHAPES:
        module = importlib.import_module(module_name) if module_name else None
        for match in re.finditer(pattern, text):
            candidate = match.group(0)
            if module is None or module.is_valid(candidate):
                out.append(Finding("NATIONAL_ID", match.start(), match.end(), candidate))
    return out


_ACCOUNT = re.compile(
    r"(?i)\b(?:account|acct|a/c|bank\s+account|acc)\s*(?:no\.?|number|num|#)?\s*[:.#-]?\s*"
    r"(?P<number>[0-9](?:[0-9 -]{4,24}[0-9]))")


def _account_numbers(text: str) -> list[Finding]:
    return [Finding("ACCOUNT_NUMBER", m.start("number"), m.end("number"), m.group("number"))
            for m in _ACCOUNT.finditer(text)]


@functools.cache
def _first_names() -> frozenset[str]:
    import importlib

    names: set[str] = set()
    for locale in NAME_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in ("first_names", "first_names_male", "first_names_female"):
            names.update(str(n).lower() for n in getattr(provider, attribute, ()) or ())
    return frozenset(n for n in names if len(n) > 2 and n not in COMMON_WORDS)


_WORD = r"\p{Lu}[\p{L}'\-]+|\p{Lu}\.?"  # a capitalised word (any script's letters), an initial
_LINK = r"(?:bin|binti|bte|a/l|a/p|van|von|de|der|da|del|della|di|al|el|le|la) "
# One space between a name's words (a wider gap is the next column); "Ahmad bin Ismail".
_MORE = rf"(?: (?:{_LINK})?(?:{_WORD}))"
_CUED = regex.compile(rf"\b(?:{NAME_CUES})\s+(?P<name>(?:{_WORD}){_MORE}{{0,3}})")
# A lookahead: matches overlap, so "Call Maria Gonzalez" is tried from "Maria" too.
_CAPITALISED = regex.compile(rf"\b(?=(?P<name>\p{{Lu}}[\p{{L}}'\-]+{_MORE}{{1,3}}))")


def _names(text: str) -> list[Finding]:
    """People's names: after a cue (title or label), or a known first name followed by
    capitalised words; never a company (`Sdn Bhd`, `Inc`)."""
    out = []
    first_names = _first_names()
    for match in _CUED.finditer(text):
        out.append(_name_finding(text, match.start("name"), match.group("name"), cued=True))
    for match in _CAPITALISED.finditer(text):
        words = match.group("name").split()
        if words[0].lower() in first_names and words[0].lower() not in COMMON_WORDS:
            out.append(_name_finding(text, match.start("name"), match.group("name")))
    return [f for f in out if f is not None]


_TITLE = re.compile(rf"^{TITLES}$", re.IGNORECASE)


@functools.cache
def _place_words() -> frozenset[str]:
    """Words that make a name a street's or a building's ("Madison Avenue", "Suite"): Faker's
    street suffixes of the locales whose names it knows, and its secondary units."""
    import importlib

    words = {"suite", "apt", "center", "centre", "building", "tower", "plaza", "floor"}
    for locale in ("en_US", "en_GB"):
        provider = importlib.import_module(f"faker.providers.address.{locale}").Provider
        words.update(w.lower() for w in provider.street_suffixes)
    return frozenset(words)


def _name_finding(text: str, start: int, name: str, cued: bool = False) -> Finding | None:
    words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", name)]
    titled = bool(words) and bool(_TITLE.match(words[0][2]))
    while words and _TITLE.match(words[0][2]):  # "Attn: Mr. John Smith": the name is after
        words.pop(0)
    if not words:
        return None
    start += words[0][0]
    words = [(s - words[0][0], e - words[0][0], w) for s, e, w in words]
    stripped = [w.lower().strip(".,") for _, _, w in words]
    if any(w in COMPANY_WORDS or w in _place_words() for w in stripped):
        return None
    for i, (_, _, word) in enumerate(words):  # "Jane Doe Tel": the name ends at a label
        if word.lower().strip(".,:") in LABEL_WORDS:
            words = words[:i]
            break
    if not words:
        return None
    while len(words) > 1 and words[-1][2].isupper() and not words[0][2].isupper():
        words.pop()  # "John Smith TOTAL": the name ends before the shouted word
    if all(len(w.strip(".")) <= 1 for _, _, w in words):
        return None
    if cued and not titled and len(words) < 2:  # "Name: Address", "Contact Person"
        return None
    end = start + words[-1][1]
    return Finding("PERSON", start, end, text[start:end])


def _outside(text: str, finding: Finding, guarded: list[tuple[int, int]]) -> list[Finding]:
    """The pieces of a finding outside the record's values, each with at least 4 letters or
    digits (less identifies no one)."""
    pieces, at = [], finding.start
    for start, end in [*guarded, (finding.end, finding.end)]:
        if start > at:
            pieces.append((at, min(start, finding.end)))
        at = max(at, end)
    out = []
    for start, end in pieces:
        while start < end and not text[start].isalnum():
            start += 1
        while end > start and not text[end - 1].isalnum():
            end -= 1
        if sum(ch.isalnum() for ch in text[start:end]) >= 4:
            out.append(Finding(finding.kind, start, end, text[start:end], partial=True))
    return out


def _spans_of(text: str, values: Iterable[str]) -> list[tuple[int, int]]:
    """Where the values occur, case and the whitespace between words aside (an address on
    two lines is the record's address)."""
    spans = []
    for value in values:
        words = value.split()
        if len("".join(words)) < 3:
            continue
        pattern = r"\s+".join(re.escape(w) for w in words)
        spans += [m.span() for m in re.finditer(pattern, text, re.IGNORECASE)]
    return spans


_PRIORITY = {"CREDIT_CARD": 0, "IBAN_CODE": 0, "EMAIL_ADDRESS": 0, "NATIONAL_ID": 1,
             "US_SSN": 1, "UK_NHS": 1, "ACCOUNT_NUMBER": 2, "PHONE_NUMBER": 3, "IP_ADDRESS": 3,
             "PERSON": 4}


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    """One finding per stretch of text: the surer kind first, then the longer."""
    chosen: list[Finding] = []
    for f in sorted(findings, key=lambda f: (_PRIORITY.get(f.kind, 5), -(f.end - f.start))):
        if all(f.end <= c.start or c.end <= f.start for c in chosen):
            chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)


# --- surrogates ------------------------------------------------------------------------------

def _same_shape(original: str, rng: random.Random) -> str:
    """Letters for letters (case kept), digits for digits, everything else as it was."""
    out = []
    for ch in original:
        if ch.isdigit():
            out.append(str(rng.randrange(10)))
        elif ch.isalpha():
            letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
            out.append(letter.upper() if ch.isupper() else letter)
        else:
            out.append(ch)
    return "".join(out)


def _digits_into(original: str, digits: str) -> str:
    """`digits` laid into the original's grouping (its spaces and dashes kept)."""
    it = iter(digits)
    return "".join(next(it) if ch.isdigit() else ch for ch in original)


def _card(original: str, rng: random.Random) -> str:
    from stdnum import luhn

    n = sum(ch.isdigit() for ch in original)
    body = original.lstrip()[0] + "".join(str(rng.randrange(10)) for _ in range(n - 2))
    return _digits_into(original, body + luhn.calc_check_digit(body))


def _iban(original: str, rng: random.Random) -> str:
    from stdnum import iban

    compact = re.sub(r"\s", "", original).upper()
    bban = "".join(str(rng.randrange(10)) if c.isdigit() else c for c in compact[4:])
    check = iban.calc_check_digits(compact[:2] + "00" + bban)
    new = compact[:2] + check + bban
    it = iter(new)
    return "".join(next(it) if not ch.isspace() else ch for ch in original)


def _phone(original: str, rng: random.Random) -> str:
    """Keep `+`, the country code's and area's first digits and the separators."""
    digits = [ch for ch in original if ch.isdigit()]
    keep = 3 if original.lstrip().startswith("+") else 2
    new = digits[:keep] + [str(rng.randrange(10)) for _ in digits[keep:]]
    return _digits_into(original, "".join(new))


def _email(original: str, rng: random.Random) -> str:
    local, _, domain = original.partition("@")
    host, _, tld = domain.rpartition(".")
    return f"{_same_shape(local, rng)}@{_same_shape(host, rng)}.{tld}"


def _person(original: str, rng: random.Random) -> str:
    from faker import Faker

    faker = Faker("en_US")
    faker.seed_instance(rng.randrange(2**32))
    words = original.split()
    made = [faker.first_name()] + [faker.last_name() for _ in words[1:]]
    for i, word in enumerate(words):  # an initial stays an initial; titles stay
        if len(word.rstrip(".")) == 1:
            made[i] = made[i][0] + ("." if word.endswith(".") else "")
        if word.isupper() and len(word) > 1:
            made[i] = made[i].upper()
    return " ".join(made)


_MAKERS = {"CREDIT_CARD": _card, "IBAN_CODE": _iban, "PHONE_NUMBER": _phone,
           "EMAIL_ADDRESS": _email, "PERSON": _person}
