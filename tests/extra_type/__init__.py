"""A document type that lives outside `pipeline/doctypes/`: an internal memo.

The test `tests/test_type_is_one_package.py` registers it with `DOCKET_EXTRA_DOCTYPES` and runs
a memo through the pipeline, storage, the records API and the review page: the proof that a
type is its package (this folder, with its migration) and nothing else.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pipeline.doctypes.base import DocType, QueryConfig
from schemas.common import RuleViolation, clean_text, parse_date

Text = Annotated[str, StringConstraints(max_length=120)] | None


class RecipientDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class MemoDraft(BaseModel):
    """What the model writes, copied from the memo."""

    model_config = ConfigDict(extra="forbid")
    subject: Text
    author: Text
    date: Annotated[str, StringConstraints(max_length=30)] | None
    recipients: Annotated[list[RecipientDraft], Field(max_length=2)]


class Recipient(BaseModel):
    name: str


class Memo(BaseModel):
    subject: str | None = None
    author: str | None = None
    date: dt.date | None = None
    date_text: str | None = None
    recipients: list[Recipient] = Field(default_factory=list)


def to_record(draft: MemoDraft) -> Memo:
    return Memo(subject=clean_text(draft.subject), author=clean_text(draft.author),
                date=parse_date(draft.date), date_text=clean_text(draft.date),
                recipients=[Recipient(name=r.name) for r in draft.recipients])


def check_rules(memo: Memo, today: dt.date | None = None) -> list[RuleViolation]:
    if memo.subject is None:
        return [RuleViolation(rule="subject_missing", message="No subject was found.",
                              fields=["subject"])]
    return []


class MemoRow(BaseModel):
    """A row of `analytics.memos`."""

    document_id: uuid.UUID
    filename: str
    status: str
    uploaded_at: dt.datetime
    subject: str | None
    author: str | None
    date: dt.date | None
    date_text: str | None
    recipient_count: int
    adapter: str | None
    reviewed: bool


class MemoRecipientRow(BaseModel):
    """A row of `analytics.memo_recipients` (position counts from 1)."""

    document_id: uuid.UUID
    position: int
    name: str


DOCTYPE = DocType(
    name="memo",
    description="an internal memo: subject, author, date, recipients",
    draft_model=MemoDraft,
    record_model=Memo,
    to_record=to_record,
    check_rules=check_rules,
    instruction="Extract the memo's fields as JSON. Copy values exactly as written; "
                "use null when a field is not in the memo.",
    table="memos",
    child_tables={"recipients": "memo_recipients"},
    query=QueryConfig(
        view="memos", date_column="date", name_column="author", row_model=MemoRow,
        children_view="memo_recipients", children_order="position",
        child_model=MemoRecipientRow, sortable=("date", "subject", "author", "status"),
        default_sort="-date", name_means="author",
    ),
    summary_fields=("subject", "author", "date", "recipients"),
)
