"""A document's life after upload: listing documents and batches, erasing a document, and
retention (originals erased after N days, records kept).

Erasing a document removes its bytes, conversion text, runs, records, fields, corrections and
training example (the foreign keys cascade from `documents`); the `erasures` table keeps who
erased which document id and when, and nothing of its content.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Connection

from pipeline.storage import webhooks
from pipeline.storage.documents import Status


@dataclass(frozen=True)
class DocumentFilter:
    status: Status | None = None
    document_type: str | None = None
    batch_id: uuid.UUID | None = None
    uploaded_from: datetime | None = None
    uploaded_to: datetime | None = None
    document_id: uuid.UUID | None = None


def list_documents(conn: Connection[Any], where: DocumentFilter, limit: int,
                   offset: int) -> tuple[list[dict[str, Any]], int]:
    """One page of documents, newest first, and how many match in all."""
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if where.document_id is not None:
        clauses.append("d.id = %s")
        params.append(where.document_id)
    if where.status is not None:
        clauses.append("d.status = %s")
        params.append(where.status.value)
    if where.document_type is not None:
        clauses.append("d.document_type = %s")
        params.append(where.document_type)
    if where.batch_id is not None:
        clauses.append("EXISTS (SELECT 1 FROM batch_documents b WHERE b.document_id = d.id "
                       "AND b.batch_id = %s)")
        params.append(where.batch_id)
    if where.uploaded_from is not None:
        clauses.append("d.created_at >= %s")
        params.append(where.uploaded_from)
    if where.uploaded_to is not None:
        clauses.append("d.created_at < %s")
        params.append(where.uploaded_to)
    condition = " AND ".join(clauses)
    total = conn.execute(f"SELECT count(*) AS n FROM documents d WHERE {condition}",
                         params).fetchone()
    rows = conn.execute(
        f"""SELECT d.id, d.filename, d.status, d.error, d.document_type, d.mime_type, d.size,
                   d.pages, d.created_at AS uploaded_at, d.updated_at,
                   (SELECT b.data IS NULL FROM blobs b WHERE b.sha256 = d.sha256)
                       AS original_erased
            FROM documents d WHERE {condition}
            ORDER BY d.created_at DESC, d.id LIMIT %s OFFSET %s""",
        [*params, limit, offset],
    ).fetchall()
    return rows, int(total["n"]) if total else 0


def list_batches(conn: Connection[Any], limit: int, offset: int,
                 created_from: datetime | None = None,
                 created_to: datetime | None = None) -> tuple[list[dict[str, Any]], int]:
    """One page of batches, newest first, with their documents counted by status."""
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if created_from is not None:
        clauses.append("created_at >= %s")
        params.append(created_from)
    if created_to is not None:
        clauses.append("created_at < %s")
        params.append(created_to)
    condition = " AND ".join(clauses)
    total = conn.execute(f"SELECT count(*) AS n FROM batches WHERE {condition}",
                         params).fetchone()
    rows = conn.execute(
        f"""SELECT t.id, t.source, t.created_at,
                   coalesce((SELECT jsonb_object_agg(s.status, s.n) FROM (
                       SELECT d.status, count(*) AS n FROM batch_documents b
                       JOIN documents d ON d.id = b.document_id
                       WHERE b.batch_id = t.id GROUP BY d.status) s), '{{}}') AS counts
            FROM batches t WHERE {condition}
            ORDER BY t.created_at DESC, t.id LIMIT %s OFFSET %s""",
        [*params, limit, offset],
    ).fetchall()
    for row in rows:
        row["counts"] = {status.value: int(row["counts"].get(status.value, 0))
                         for status in Status}
    return rows, int(total["n"]) if total else 0


def erase_document(conn: Connection[Any], document_id: uuid.UUID, erased_by: str,
                   key_id: uuid.UUID | None) -> bool:
    """Erase the document and everything made from it; keep an audit row without content.
    False if there is no such document."""
    with conn.transaction():
        batches = [r["batch_id"] for r in conn.execute(
            "SELECT batch_id FROM batch_documents WHERE document_id = %s", (document_id,))]
        row = conn.execute("DELETE FROM documents WHERE id = %s RETURNING sha256",
                           (document_id,)).fetchone()
        if row is None:
            return False
        conn.execute("DELETE FROM blobs WHERE sha256 = %s", (row["sha256"],))
        conn.execute(  # a batch that held only this document goes with it
            """DELETE FROM batches t WHERE t.id = ANY(%s) AND NOT EXISTS
               (SELECT 1 FROM batch_documents b WHERE b.batch_id = t.id)""", (batches,))
        for batch_id in batches:  # it may have been what the others waited for
            webhooks.batch_if_finished(conn, batch_id)
        conn.execute(
            """INSERT INTO erasures (document_id, what, erased_by, key_id)
               VALUES (%s, 'document', %s, %s)""", (document_id, erased_by, key_id))
    return True


def erase_originals_older_than(conn: Connection[Any], days: int) -> int:
    """Retention: erase the uploaded bytes of finished documents uploaded over `days` days
    ago; their records, fields and conversion stay. Returns how many were erased."""
    with conn.transaction():
        rows = conn.execute(
            """UPDATE blobs b SET data = NULL, erased_at = now()
               FROM documents d
               WHERE d.sha256 = b.sha256 AND b.data IS NOT NULL
                 AND d.status = ANY(%s) AND d.created_at < now() - make_interval(days => %s)
               RETURNING d.id""",
            ([Status.DONE.value, Status.NEEDS_REVIEW.value, Status.FAILED.value], days),
        ).fetchall()
        for row in rows:
            conn.execute(
                """INSERT INTO erasures (document_id, what, erased_by, key_id)
                   VALUES (%s, 'original', %s, NULL)""",
                (row["id"], f"retention ({days} days)"))
    return len(rows)
