"""Webhook subscriptions and the outbox of their events.

An event is written as a `pending` delivery row in the same transaction as the status change it
reports, so no event is lost to a crash, a broker outage or a receiver that is down; the
webhook worker (`pipeline.webhooks`) sends the rows that are due and logs every attempt.

Who hears of a document: the callback of each upload (batch) it is in, the standing
subscriptions of each key that uploaded it, and admins' subscriptions to everything.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb

from pipeline.settings import get_settings

DOCUMENT_FINISHED = "document.finished"  # processing ended: done, needs_review or failed
DOCUMENT_REVIEWED = "document.reviewed"  # a reviewer's save changed its status
BATCH_FINISHED = "batch.finished"  # every document of an upload finished (once per batch)
EVENTS = (DOCUMENT_FINISHED, DOCUMENT_REVIEWED, BATCH_FINISHED)
SCOPES = ("own", "all")  # a key's own uploads, or every upload (admins)
SECRET_PREFIX = "whsec_"
_UNFINISHED = ["queued", "processing"]  # pipeline.storage.documents.UNFINISHED


@dataclass(frozen=True)
class Webhook:
    id: uuid.UUID
    secret: str  # shown once, to whoever created it


def create(conn: Connection[Any], url: str, key_id: uuid.UUID | None,
           batch_id: uuid.UUID | None = None, scope: str = "own",
           events: list[str] | None = None) -> Webhook:
    """A standing subscription (no batch) or the callback of one upload (`batch_id`)."""
    unknown = set(events or ()) - set(EVENTS)
    if unknown or scope not in SCOPES:
        raise ValueError(f"Unknown event or scope: {sorted(unknown) or scope}")
    webhook = Webhook(uuid.uuid4(), SECRET_PREFIX + secrets.token_urlsafe(32))
    conn.execute(
        """INSERT INTO webhooks (id, url, secret, key_id, batch_id, scope, events)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (webhook.id, url, webhook.secret, key_id, batch_id, scope, list(events or EVENTS)),
    )
    return webhook


def get(conn: Connection[Any], webhook_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT id, url, key_id, batch_id, scope, events, created_at, deleted_at
           FROM webhooks WHERE id = %s""",
        (webhook_id,),
    ).fetchone()


def listing(conn: Connection[Any], key_id: uuid.UUID | None) -> list[dict[str, Any]]:
    """Live standing subscriptions: a key's own, or all (key_id None)."""
    return conn.execute(
        """SELECT id, url, key_id, batch_id, scope, events, created_at FROM webhooks
           WHERE deleted_at IS NULL AND batch_id IS NULL
             AND (%(key)s::uuid IS NULL OR key_id = %(key)s) ORDER BY created_at""",
        {"key": key_id},
    ).fetchall()


def delete(conn: Connection[Any], webhook_id: uuid.UUID) -> bool:
    """Stop a subscription: no new events; deliveries already written still go out."""
    row = conn.execute(
        "UPDATE webhooks SET deleted_at = now() WHERE id = %s AND deleted_at IS NULL "
        "RETURNING id", (webhook_id,),
    ).fetchone()
    return row is not None


# Live webhooks that hear of batch %(batch)s's events: its callback, its uploader's standing
# subscriptions, and subscriptions to everything. Keys revoked since no longer hear.
_BATCH_LISTENERS = """
    SELECT w.id, w.batch_id, w.key_id, w.scope FROM webhooks w
    LEFT JOIN api_keys k ON k.id = w.key_id
    WHERE w.deleted_at IS NULL AND %(event)s = ANY(w.events)
      AND (w.key_id IS NULL OR k.revoked_at IS NULL)
      AND (w.batch_id = %(batch)s
           OR (w.batch_id IS NULL AND w.scope = 'own'
               AND w.key_id = (SELECT key_id FROM batches WHERE id = %(batch)s))
           OR (w.batch_id IS NULL AND w.scope = 'all' AND %(everyone)s))
"""


def document_finished(conn: Connection[Any], document_id: uuid.UUID,
                      event: str = DOCUMENT_FINISHED,
                      batch_id: uuid.UUID | None = None) -> int:
    """Write the event of a document that reached a terminal status, to every webhook that
    hears of it (only `batch_id`'s listeners: a duplicate upload of a finished document), then
    the `batch.finished` of each batch it completed. Call it in the status change's
    transaction. Returns how many deliveries were written."""
    doc = conn.execute(
        """SELECT id, filename, status, document_type, error FROM documents WHERE id = %s""",
        (document_id,),
    ).fetchone()
    if doc is None:
        return 0
    batches = [batch_id] if batch_id else [r["batch_id"] for r in conn.execute(
        "SELECT batch_id FROM batch_documents WHERE document_id = %s ORDER BY batch_id",
        (document_id,),
    )]
    heard: set[uuid.UUID] = set()
    for batch in batches:
        for hook in conn.execute(_BATCH_LISTENERS, {"event": event, "batch": batch,
                                                    "everyone": batch_id is None}).fetchall():
            if hook["id"] in heard:
                continue
            heard.add(hook["id"])
            _write(conn, hook["id"], event, {"document": _document_data(conn, doc, hook)},
                   document_id=document_id)
    written = len(heard)
    if batch_id is None:
        for batch in batches:
            written += batch_if_finished(conn, batch)
    return written


def seal(conn: Connection[Any], batch_id: uuid.UUID) -> int:
    """Every file of the upload is stored: from now on the batch finishes when its last
    document does (perhaps already). Returns how many deliveries were written."""
    with conn.transaction():
        conn.execute("UPDATE batches SET sealed_at = now() WHERE id = %s", (batch_id,))
        return batch_if_finished(conn, batch_id)


def batch_if_finished(conn: Connection[Any], batch_id: uuid.UUID) -> int:
    """Write `batch.finished` once: the batch row's lock makes the last two finishers queue up,
    and the second sees the first's status."""
    batch = conn.execute(
        "SELECT sealed_at, finished_at FROM batches WHERE id = %s FOR UPDATE", (batch_id,)
    ).fetchone()
    if batch is None or batch["sealed_at"] is None or batch["finished_at"] is not None:
        return 0
    counts = {r["status"]: r["n"] for r in conn.execute(
        """SELECT d.status, count(*) AS n FROM batch_documents b
           JOIN documents d ON d.id = b.document_id WHERE b.batch_id = %s GROUP BY d.status""",
        (batch_id,),
    )}
    if any(counts.get(status) for status in _UNFINISHED):
        return 0
    conn.execute("UPDATE batches SET finished_at = now() WHERE id = %s", (batch_id,))
    data = {"batch": {"id": str(batch_id), "counts": counts, "total": sum(counts.values()),
                      "links": {"self": _link(f"/v1/batches/{batch_id}")}}}
    hooks = conn.execute(_BATCH_LISTENERS, {"event": BATCH_FINISHED, "batch": batch_id,
                                            "everyone": True}).fetchall()
    for hook in hooks:
        _write(conn, hook["id"], BATCH_FINISHED, data, batch_id=batch_id)
    return len(hooks)


def _document_data(conn: Connection[Any], doc: dict[str, Any],
                   hook: dict[str, Any]) -> dict[str, Any]:
    """What the event says of the document: only the batches its listener may know of."""
    if hook["batch_id"] is not None:
        batches = [hook["batch_id"]]
    else:
        batches = [r["batch_id"] for r in conn.execute(
            """SELECT b.batch_id FROM batch_documents b JOIN batches t ON t.id = b.batch_id
               WHERE b.document_id = %s AND (%s = 'all' OR t.key_id = %s)
               ORDER BY t.created_at""",
            (doc["id"], hook["scope"], hook["key_id"]),
        )]
    path = f"/v1/documents/{doc['id']}"
    return {
        "id": str(doc["id"]), "filename": doc["filename"], "status": doc["status"],
        "document_type": doc["document_type"], "reason": doc["error"],
        "batch_ids": [str(b) for b in batches],
        "links": {"self": _link(path), "original": _link(f"{path}/original")},
    }


def _link(path: str) -> str:
    return get_settings().public_url.rstrip("/") + path


def _write(conn: Connection[Any], webhook_id: uuid.UUID, event: str, data: dict[str, Any],
           document_id: uuid.UUID | None = None, batch_id: uuid.UUID | None = None) -> None:
    delivery_id = uuid.uuid4()
    payload = {"id": str(delivery_id), "type": event,
               "created_at": dt.datetime.now(dt.UTC).isoformat(), **data}
    conn.execute(
        """INSERT INTO webhook_deliveries (id, webhook_id, event, document_id, batch_id, payload)
           VALUES (%s, %s, %s, %s, %s, %s)""",
        (delivery_id, webhook_id, event, document_id, batch_id, Jsonb(payload)),
    )


# The delivery side: the webhook worker claims what is due, and logs each attempt.

def claim_due(conn: Connection[Any], limit: int, lost_after_s: float) -> list[uuid.UUID]:
    """Mark up to `limit` due deliveries as handed out and return them; one handed out over
    `lost_after_s` ago and still untried (its message lost) is due again."""
    rows = conn.execute(
        """UPDATE webhook_deliveries SET queued_at = now() WHERE id IN (
               SELECT id FROM webhook_deliveries
               WHERE status = 'pending' AND next_attempt_at <= now()
                 AND (queued_at IS NULL OR queued_at < now() - make_interval(secs => %s))
               ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)
           RETURNING id""",
        (lost_after_s, limit),
    ).fetchall()
    return [r["id"] for r in rows]


def unclaim(conn: Connection[Any], delivery_ids: list[uuid.UUID]) -> None:
    """Handing out failed (the broker is down): due again at the next look."""
    conn.execute("UPDATE webhook_deliveries SET queued_at = NULL WHERE id = ANY(%s)",
                 (delivery_ids,))


def lock_pending(conn: Connection[Any], delivery_id: uuid.UUID) -> dict[str, Any] | None:
    """The pending delivery with its webhook's URL and secret, locked for this attempt (None:
    delivered, given up, not due yet, or being tried elsewhere: a repeated message does
    nothing). Call it inside `conn.transaction()`."""
    return conn.execute(
        """SELECT d.id, d.event, d.payload, d.attempts, w.url, w.secret
           FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
           WHERE d.id = %s AND d.status = 'pending' AND d.next_attempt_at <= now()
           FOR UPDATE OF d SKIP LOCKED""",
        (delivery_id,),
    ).fetchone()


def record_attempt(conn: Connection[Any], delivery_id: uuid.UUID, attempt: int,
                   status_code: int | None, error: str | None, duration_ms: float,
                   retry_in_s: float | None) -> str:
    """Log one attempt; the delivery ends `delivered` (no error), `failed` (no retry left) or
    waits `retry_in_s`. Returns its status."""
    conn.execute(
        """INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms)
           VALUES (%s, %s, %s, %s, %s)""",
        (delivery_id, attempt, status_code, error, duration_ms),
    )
    status = "delivered" if error is None else "pending" if retry_in_s is not None else "failed"
    conn.execute(
        """UPDATE webhook_deliveries SET attempts = %s, status = %s, queued_at = NULL,
                  next_attempt_at = now() + make_interval(secs => %s),
                  finished_at = CASE WHEN %s = 'pending' THEN NULL ELSE now() END
           WHERE id = %s""",
        (attempt, status, retry_in_s or 0, status, delivery_id),
    )
    return status


def deliveries(conn: Connection[Any], webhook_id: uuid.UUID, limit: int,
               offset: int) -> list[dict[str, Any]]:
    """A webhook's deliveries, newest first, each with its attempts in order."""
    rows = conn.execute(
        """SELECT id, event, document_id, batch_id, status, attempts, next_attempt_at,
                  created_at, finished_at FROM webhook_deliveries WHERE webhook_id = %s
           ORDER BY created_at DESC, id LIMIT %s OFFSET %s""",
        (webhook_id, limit, offset),
    ).fetchall()
    tries: dict[uuid.UUID, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    for attempt in conn.execute(
        """SELECT delivery_id, attempt, attempted_at, status_code, error, duration_ms
           FROM webhook_attempts WHERE delivery_id = ANY(%s) ORDER BY attempt""",
        (list(tries),),
    ):
        tries[attempt.pop("delivery_id")].append(attempt)
    return [{**row, "attempt_log": tries[row["id"]]} for row in rows]


def counts(conn: Connection[Any]) -> dict[str, int]:
    """Deliveries by status (the metrics)."""
    return {r["status"]: r["n"] for r in conn.execute(
        "SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status")}
