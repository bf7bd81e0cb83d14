"""Contracts: who agreed to what, from when, for how long, under which law."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.common import RuleViolation, clean_text, parse_date

Text = Annotated[str, StringConstraints(max_length=160)] | None
Short = Annotated[str, StringConstraints(max_length=60)] | None


class PartyDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    role: Short


class ContractDraft(BaseModel):
    """What the model writes: values copied as stated in the contract."""

    model_config = ConfigDict(extra="forbid")
    title: Text
    parties: Annotated[list[PartyDraft], Field(max_length=6)]
    effective_date: Short
    term: Short
    jurisdiction: Short
    termination_notice: Short
    signatories: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=80)]], Field(max_length=6)
    ]


class Party(BaseModel):
    name: str
    role: str | None = Field(default=None, description="e.g. 'Disclosing Party', 'Client'")


class Contract(BaseModel):
    """A validated contract; the effective date ISO with the stated text kept."""

    title: str | None = None
    parties: list[Party] = Field(default_factory=list)
    effective_date: dt.date | None = None
    effective_date_text: str | None = Field(default=None, description="the date as stated")
    term: str | None = Field(default=None, description="as stated, e.g. '2 years'")
    jurisdiction: str | None = Field(default=None, description="governing law")
    termination_notice: str | None = None
    signatories: list[str] = Field(default_factory=list)


# A legal entity's suffix in one short form, so that analysts grouping or filtering parties
# by name find "II-VI Incorporated" and "II-VI Inc." as one (Kleister's labels write them so).
_ENTITY_SUFFIXES = (
    (re.compile(r"\bIncorporated$", re.IGNORECASE), "Inc."),
    (re.compile(r"\bLimited$", re.IGNORECASE), "Ltd."),
    (re.compile(r"\bL\.L\.C\.?$", re.IGNORECASE), "LLC"),
)


def party_name(name: str) -> str:
    """The party's name as stated, its legal-entity suffix in short form."""
    name = clean_text(name) or name
    for pattern, short in _ENTITY_SUFFIXES:
        name = pattern.sub(short, name)
    return name


def to_record(draft: ContractDraft) -> Contract:
    """The record; a "party" whose name has no letter is the blank line of a signature block
    ("__________"), not a party, and is left out."""
    return Contract(
        title=clean_text(draft.title),
        parties=[
            Party(name=party_name(p.name), role=clean_text(p.role))
            for p in draft.parties if any(ch.isalpha() for ch in p.name)
        ],
        effective_date=parse_date(draft.effective_date),
        effective_date_text=clean_text(draft.effective_date),
        term=clean_text(draft.term),
        jurisdiction=clean_text(draft.jurisdiction),
        termination_notice=clean_text(draft.termination_notice),
        signatories=[s for s in (clean_text(s) for s in draft.signatories) if s],
    )


def check_rules(contract: Contract, today: dt.date | None = None) -> list[RuleViolation]:
    found: list[RuleViolation] = []

    def flag(rule: str, message: str, *fields: str) -> None:
        found.append(RuleViolation(rule=rule, message=message, fields=list(fields)))

    if len(contract.parties) < 2:
        flag("parties_missing", "A contract needs at least two parties.", "parties")
    names = [p.name.casefold() for p in contract.parties]
    if len(set(names)) != len(names):
        flag("parties_duplicated", "The same party is listed twice.", "parties")
    if contract.effective_date_text and contract.effective_date is None:
        flag(
            "effective_date_invalid",
            f"'{contract.effective_date_text}' is not a real date with a day, month and year.",
            "effective_date",
        )
    return found

