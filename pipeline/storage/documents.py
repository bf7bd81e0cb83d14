"""Batches, original bytes and document status: the durable to-do list of the pipeline."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb

from pipeline.document import Document
from pipeline.storage import webhooks


class Status(StrEnum):
    """A document's place in the pipeline (the `documents.status` column's CHECK list).

    A StrEnum: it is stored, compared and printed as its plain text value.
    """

    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"


UNFINISHED = [Status.QUEUED, Status.PROCESSING]  # a list: psycopg sends it as an array
FINISHED = (Status.DONE, Status.NEEDS_REVIEW, Status.FAILED)


@dataclass
class Stored:
    document_id: uuid.UUID
    filename: str
    duplicate: bool  # the same bytes were already a document


def create_batch(conn: Connection[Any], source: str, key_id: uuid.UUID | None = None
                 ) -> uuid.UUID:
    """A new batch, uploaded with API key `key_id` (None: from the CLI); `webhooks.seal` it
    once all its files are stored."""
    batch_id = uuid.uuid4()
    conn.execute("INSERT INTO batches (id, source, key_id) VALUES (%s, %s, %s)",
                 (batch_id, source, key_id))
    return batch_id


def add_document(
    conn: Connection[Any],
    batch_id: uuid.UUID,
    filename: str,
    data: bytes,
    type_hint: str | None = None,
    mime_type: str | None = None,
) -> Stored:
    """Store the bytes and a `queued` document, or find the document these bytes already are."""
    sha = hashlib.sha256(data).hexdigest()
    with conn.transaction():
        conn.execute(
            # Bytes erased by retention come back when the same bytes are uploaded again.
            """INSERT INTO blobs (sha256, size, data) VALUES (%s, %s, %s)
               ON CONFLICT (sha256) DO UPDATE SET data = EXCLUDED.data, erased_at = NULL
               WHERE blobs.data IS NULL""",
            (sha, len(data), data),
        )
        row = conn.execute(
            """INSERT INTO documents (id, sha256, filename, mime_type, size, type_hint)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (sha256) DO NOTHING RETURNING id""",
            (uuid.uuid4(), sha, filename, mime_type, len(data), type_hint),
        ).fetchone()
        duplicate = row is None
        if duplicate:  # locked: a worker finishing it now either sees this batch or not
            row = conn.execute("SELECT id, status FROM documents WHERE sha256 = %s FOR UPDATE",
                               (sha,)).fetchone()
        assert row is not None
        linked = conn.execute(
            """INSERT INTO batch_documents (batch_id, document_id, filename) VALUES (%s, %s, %s)
               ON CONFLICT DO NOTHING RETURNING 1""",
            (batch_id, row["id"], filename),
        ).fetchone()
        if duplicate and linked and row["status"] in FINISHED:
            # It finished before this upload: this batch's webhooks hear of it now, once.
            webhooks.document_finished(conn, row["id"], batch_id=batch_id)
    return Stored(row["id"], filename, duplicate)


def add_failed_upload(
    conn: Connection[Any], batch_id: uuid.UUID, filename: str, data: bytes, reason: str
) -> Stored:
    """An upload refused before processing (e.g. unsupported type) still keeps its bytes."""
    stored = add_document(conn, batch_id, filename, data)
    if not stored.duplicate:
        set_status(conn, stored.document_id, Status.FAILED, error=reason)
    return stored


def claim(conn: Connection[Any], document_id: uuid.UUID) -> dict[str, Any] | None:
    """Mark a document `processing` unless it already reached a terminal state.

    Returns the document with its bytes, or None when there is nothing to do (a redelivered
    task for a finished document): this is what makes processing idempotent.
    """
    row = conn.execute(
        """UPDATE documents SET status = %s, attempts = attempts + 1, updated_at = now()
           WHERE id = %s AND status = ANY(%s)
           RETURNING id, sha256, filename, type_hint, attempts""",
        (Status.PROCESSING, document_id, UNFINISHED),
    ).fetchone()
    if row is None:
        return None
    blob = conn.execute("SELECT data FROM blobs WHERE sha256 = %s", (row["sha256"],)).fetchone()
    assert blob is not None
    if blob["data"] is None:  # erased by retention since: nothing left to process
        set_status(conn, document_id, Status.FAILED,
                   error="The original was erased by the retention rule (DOCKET_RETENTION_DAYS); "
                   "upload it again to process it.")
        return None
    return {**row, "data": bytes(blob["data"])}


def set_status(
    conn: Connection[Any], document_id: uuid.UUID, status: Status, error: str | None = None,
    event: str = webhooks.DOCUMENT_FINISHED,
) -> None:
    """Set the status (a plain string is checked: an unknown one raises ValueError); a
    terminal one writes its webhook `event` in the same transaction."""
    with conn.transaction():
        conn.execute(
            "UPDATE documents SET status = %s, error = %s, updated_at = now() WHERE id = %s",
            (Status(status), error, document_id),
        )
        if status in FINISHED:
            webhooks.document_finished(conn, document_id, event)


def set_document_type(
    conn: Connection[Any], document_id: uuid.UUID, document_type: str | None
) -> None:
    """What the classifier decided the document is (None: it could not tell)."""
    conn.execute(
        "UPDATE documents SET document_type = %s WHERE id = %s", (document_type, document_id)
    )


def lock(conn: Connection[Any], document_id: uuid.UUID) -> Status | None:
    """Lock the document's row until the transaction ends, so two saves of one document
    queue up instead of both correcting the same run; returns its status (None: no such
    document). Call it inside `conn.transaction()`."""
    row = conn.execute(
        "SELECT status FROM documents WHERE id = %s FOR UPDATE", (document_id,)
    ).fetchone()
    return Status(row["status"]) if row else None


def requeue(conn: Connection[Any], document_id: uuid.UUID) -> None:
    """Make a finished document processable again (its record is replaced, not duplicated);
    its attempts start again from zero."""
    conn.execute(
        """UPDATE documents SET status = %s, error = NULL, attempts = 0, updated_at = now()
           WHERE id = %s""",
        (Status.QUEUED, document_id),
    )


def save_conversion(conn: Connection[Any], document_id: uuid.UUID, document: Document) -> None:
    conn.execute(
        """UPDATE documents SET mime_type = %s, content = %s, pages = %s, converter = %s,
                  text = %s
           WHERE id = %s""",
        (document.mime_type, Jsonb(document.model_dump(mode="json")), len(document.pages),
         document.converter, document.text(), document_id),
    )


def pending(conn: Connection[Any]) -> list[uuid.UUID]:
    """Documents not yet in a terminal state: what the database says is still to do."""
    rows = conn.execute(
        "SELECT id FROM documents WHERE status = ANY(%s) ORDER BY created_at", (UNFINISHED,)
    ).fetchall()
    return [r["id"] for r in rows]


def stale(conn: Connection[Any], older_than_s: float) -> list[uuid.UUID]:
    """Documents `processing` for longer than any live attempt can last: their worker died."""
    return _unchanged_for(conn, Status.PROCESSING, older_than_s)


def waiting(conn: Connection[Any], older_than_s: float) -> list[uuid.UUID]:
    """Documents `queued` for longer than `older_than_s`."""
    return _unchanged_for(conn, Status.QUEUED, older_than_s)


def _unchanged_for(conn: Connection[Any], status: Status, seconds: float) -> list[uuid.UUID]:
    rows = conn.execute(
        """SELECT id FROM documents WHERE status = %s
           AND updated_at < now() - make_interval(secs => %s) ORDER BY updated_at""",
        (status, seconds),
    ).fetchall()
    return [r["id"] for r in rows]


def get_document(conn: Connection[Any], document_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT id, filename, mime_type, size, sha256, type_hint, document_type, status, error,
                  attempts, pages, converter, created_at, updated_at
           FROM documents WHERE id = %s""",
        (document_id,),
    ).fetchone()


def batch_counts(conn: Connection[Any], batch_id: uuid.UUID) -> dict[str, int] | None:
    if conn.execute("SELECT 1 FROM batches WHERE id = %s", (batch_id,)).fetchone() is None:
        return None
    rows = conn.execute(
        """SELECT d.status, count(*) AS n FROM batch_documents b
           JOIN documents d ON d.id = b.document_id WHERE b.batch_id = %s GROUP BY d.status""",
        (batch_id,),
    ).fetchall()
    counts = {status.value: 0 for status in Status}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def batch_documents(conn: Connection[Any], batch_id: uuid.UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT d.id, b.filename, d.status, d.error, d.document_type FROM batch_documents b
           JOIN documents d ON d.id = b.document_id WHERE b.batch_id = %s ORDER BY b.filename""",
        (batch_id,),
    ).fetchall()


def content(conn: Connection[Any], document_id: uuid.UUID) -> Document | None:
    """The document as converted (None: not converted yet, or no such document)."""
    row = conn.execute("SELECT content FROM documents WHERE id = %s", (document_id,)).fetchone()
    return Document.model_validate(row["content"]) if row and row["content"] else None


def original(conn: Connection[Any], document_id: uuid.UUID,
             ) -> tuple[bytes | None, str | None] | None:
    """The uploaded bytes (None: erased by retention) and their MIME type, or None if there is
    no such document."""
    row = conn.execute(
        """SELECT b.data, d.mime_type FROM documents d JOIN blobs b ON b.sha256 = d.sha256
           WHERE d.id = %s""",
        (document_id,),
    ).fetchone()
    if row is None:
        return None
    return (bytes(row["data"]) if row["data"] is not None else None), row["mime_type"]
