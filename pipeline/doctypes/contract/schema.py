"""Contracts: who agreed to what, from when, for how long, under which law, and the clauses a
legal reviewer looks for first (change of control, assignment, termination for convenience,
non-compete, exclusivity, a cap on liability)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.common import RuleViolation, clean_text, parse_date

Text = Annotated[str, StringConstraints(max_length=160)] | None
Short = Annotated[str, StringConstraints(max_length=60)] | None
# A clause's excerpt as the contract words it; a long clause is copied up to this length (its
# opening is enough to find it and to score it).
EXCERPT_CHARS = 600
Excerpt = Annotated[str, StringConstraints(min_length=1, max_length=EXCERPT_CHARS)] | None
CLAUSES = ("change_of_control", "anti_assignment", "termination_for_convenience",
           "non_compete", "exclusivity", "cap_on_liability")


class PartyDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    role: Short
    aliases: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=60)]], Field(max_length=3)
    ]


class ClausesDraft(BaseModel):
    """Each clause's excerpt as the contract words it, or null where the contract has none."""

    model_config = ConfigDict(extra="forbid")
    change_of_control: Excerpt
    anti_assignment: Excerpt
    termination_for_convenience: Excerpt
    non_compete: Excerpt
    exclusivity: Excerpt
    cap_on_liability: Excerpt


class ContractDraft(BaseModel):
    """What the model writes: values copied as stated in the contract."""

    model_config = ConfigDict(extra="forbid")
    title: Text
    parties: Annotated[list[PartyDraft], Field(max_length=6)]
    agreement_date: Short
    effective_date: Short
    expiration_date: Short
    term: Short
    renewal_term: Short
    renewal_notice: Short
    jurisdiction: Short
    termination_notice: Short
    signatories: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=80)]], Field(max_length=6)
    ]
    clauses: ClausesDraft


class Party(BaseModel):
    name: str
    role: str | None = Field(default=None, description="e.g. 'Disclosing Party', 'Client'")
    aliases: list[str] = Field(default_factory=list,
                               description="the names the contract defines for the party")


class Clause(BaseModel):
    """One reviewed clause: whether the contract has it, and its wording."""

    clause: str = Field(description="one of: " + ", ".join(CLAUSES))
    present: bool
    excerpt: str | None = None


class Contract(BaseModel):
    """A validated contract; the effective date ISO with the stated text kept."""

    title: str | None = None
    parties: list[Party] = Field(default_factory=list)
    agreement_date: dt.date | None = None
    agreement_date_text: str | None = Field(default=None, description="the date as stated")
    effective_date: dt.date | None = None
    effective_date_text: str | None = Field(default=None, description="the date as stated")
    expiration_date: dt.date | None = None
    expiration_date_text: str | None = Field(
        default=None, description="as stated; 'perpetual' where the contract never expires")
    term: str | None = Field(default=None, description="as stated, e.g. '2 years'")
    renewal_term: str | None = Field(default=None, description="e.g. 'successive 1 year'")
    renewal_notice: str | None = Field(
        default=None, description="notice needed to stop a renewal, e.g. '90 days'")
    jurisdiction: str | None = Field(default=None, description="governing law")
    termination_notice: str | None = None
    signatories: list[str] = Field(default_factory=list)
    clauses: list[Clause] = Field(default_factory=list, description="the six reviewed clauses")


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
            Party(name=party_name(p.name), role=clean_text(p.role),
                  aliases=[a for a in (clean_text(a) for a in p.aliases) if a])
            for p in draft.parties if any(ch.isalpha() for ch in p.name)
        ],
        agreement_date=parse_date(draft.agreement_date),
        agreement_date_text=clean_text(draft.agreement_date),
        effective_date=parse_date(draft.effective_date),
        effective_date_text=clean_text(draft.effective_date),
        expiration_date=parse_date(draft.expiration_date),
        expiration_date_text=clean_text(draft.expiration_date),
        term=clean_text(draft.term),
        renewal_term=clean_text(draft.renewal_term),
        renewal_notice=clean_text(draft.renewal_notice),
        jurisdiction=clean_text(draft.jurisdiction),
        termination_notice=clean_text(draft.termination_notice),
        signatories=[s for s in (clean_text(s) for s in draft.signatories) if s],
        clauses=[Clause(clause=name, present=excerpt is not None, excerpt=excerpt)
                 for name in CLAUSES
                 for excerpt in [clean_text(getattr(draft.clauses, name))]],
    )


# An expiration that is no date: the contract runs until terminated.
PERPETUAL = re.compile(r"\b(perpetu\w*|indefinite\w*|no (fixed )?expiration)\b", re.IGNORECASE)


def check_rules(contract: Contract, today: dt.date | None = None) -> list[RuleViolation]:
    found: list[RuleViolation] = []

    def flag(rule: str, message: str, *fields: str) -> None:
        found.append(RuleViolation(rule=rule, message=message, fields=list(fields)))

    if len(contract.parties) < 2:
        flag("parties_missing", "A contract needs at least two parties.", "parties")
    names = [p.name.casefold() for p in contract.parties]
    if len(set(names)) != len(names):
        flag("parties_duplicated", "The same party is listed twice.", "parties")
    for name in ("agreement_date", "effective_date"):
        text = getattr(contract, f"{name}_text")
        if text and getattr(contract, name) is None:
            flag(f"{name}_invalid",
                 f"'{text}' is not a real date with a day, month and year.", name)
    expiration = contract.expiration_date_text
    if expiration and contract.expiration_date is None and not PERPETUAL.search(expiration):
        flag("expiration_date_invalid",
             f"'{expiration}' is neither a date nor 'perpetual'.", "expiration_date")
    start = contract.effective_date or contract.agreement_date
    if contract.expiration_date and start and contract.expiration_date < start:
        flag("expiration_before_start",
             f"The contract expires ({contract.expiration_date}) before it starts ({start}).",
             "expiration_date")
    return found

