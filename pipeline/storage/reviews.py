"""Reviewers' work: the corrections audit trail, the training examples corrections leave, and
the review list.

The correction logic itself (what an edit means, validation, the review run) is
`pipeline.review`; this module only reads and writes its tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from psycopg import Connection, sql
from psycopg.types.json import Jsonb

from pipeline.storage.analytics import escape_like
from pipeline.storage.documents import Status
from pipeline.storage.keys import ApiKey
from pipeline.storage.records import latest_run_join


@dataclass
class Change:
    """One value a reviewer changed: a row of the audit trail."""

    path: str
    old: str | None
    new: str | None


def save_corrections(
    conn: Connection[Any],
    document_id: uuid.UUID,
    run_id: int,
    new_run_id: int,
    changes: Iterable[Change],
    reviewer: ApiKey,
) -> None:
    """One `corrections` row per changed value: run `run_id` corrected into `new_run_id`."""
    for change in changes:
        conn.execute(
            """INSERT INTO corrections (document_id, run_id, new_run_id, path, old_value,
                   new_value, reviewer, key_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (document_id, run_id, new_run_id, change.path, change.old, change.new,
             reviewer.name, reviewer.id),
        )


def save_training_example(
    conn: Connection[Any], document_id: uuid.UUID, document_type: str, draft: dict[str, Any]
) -> None:
    """The corrected draft as the document's training example (one per document: the
    latest correction replaces an earlier one)."""
    conn.execute(
        """INSERT INTO training_examples (document_id, document_type, draft, source)
           VALUES (%s, %s, %s, 'correction')
           ON CONFLICT (document_id) DO UPDATE SET document_type = EXCLUDED.document_type,
               draft = EXCLUDED.draft, source = EXCLUDED.source, updated_at = now()""",
        (document_id, document_type, Jsonb(draft)),
    )


def training_examples(conn: Connection[Any], document_type: str) -> list[dict[str, Any]]:
    """The reviewed drafts of a type with their documents' conversions, oldest first
    (`document_id`, `draft`, `content`, `updated_at`); documents never converted are left
    out, since their prompt cannot be rebuilt."""
    return conn.execute(
        """SELECT t.document_id, t.draft, d.content, t.updated_at
           FROM training_examples t JOIN documents d ON d.id = t.document_id
           WHERE t.document_type = %s AND d.content IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM regression_documents g  -- set aside: never trained on
                             WHERE g.document_id = t.document_id)
           ORDER BY t.updated_at""",
        (document_type,),
    ).fetchall()


def history(conn: Connection[Any], document_id: uuid.UUID) -> list[dict[str, Any]]:
    """The document's audit trail, newest first: who changed which value, when, old → new."""
    return conn.execute(
        """SELECT id, path, old_value, new_value, reviewer, key_id, run_id, new_run_id,
                  created_at
           FROM corrections WHERE document_id = %s ORDER BY created_at DESC, id DESC""",
        (document_id,),
    ).fetchall()


def queue(
    conn: Connection[Any],
    status: str | None = None,
    document_type: str | None = None,
    search: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    """Documents for the review list, needs_review first then newest; returns (rows, total).

    `search` matches the filename literally (case-insensitive); each row carries its latest
    run's source and reviewer and its lowest confidence among the values written.
    """
    where: list[sql.Composable] = []
    params: list[Any] = []
    if status:
        where.append(sql.SQL("d.status = %s"))
        params.append(status)
    if document_type:
        where.append(sql.SQL("d.document_type = %s"))
        params.append(document_type)
    if search:
        where.append(sql.SQL("d.filename ILIKE %s"))
        params.append("%" + escape_like(search) + "%")
    clause = sql.SQL("WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL("")
    count = conn.execute(
        sql.SQL("SELECT count(*) AS n FROM documents d {}").format(clause), params
    ).fetchone()
    rows = conn.execute(
        sql.SQL("""SELECT d.id, d.filename, d.document_type, d.status, d.error, d.updated_at,
                          run.source, run.reviewer,
                          (SELECT min(ef.confidence) FROM extracted_fields ef
                           WHERE ef.run_id = run.id AND ef.value IS NOT NULL) AS min_confidence
                   FROM documents d {latest}
                   {clause}
                   ORDER BY d.status = %s DESC, d.updated_at DESC, d.id
                   LIMIT %s OFFSET %s""").format(
            latest=latest_run_join(("id", "source", "reviewer")), clause=clause
        ),
        [*params, Status.NEEDS_REVIEW, per_page, (max(page, 1) - 1) * per_page],
    ).fetchall()
    return rows, count["n"] if count else 0
