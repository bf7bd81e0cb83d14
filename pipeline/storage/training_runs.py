"""Retraining runs in Postgres (migration 0011): what each one is doing now and how it ended.

A partial unique index allows one `running` row at a time, whatever the type: starting a run
is inserting (or taking) that row, and a second start while one runs fails there, not after
minutes of training. An admin's request is a `requested` row, one per adapter, which the
trainer takes on its next look.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg import Connection
from psycopg.types.json import Jsonb

OUTCOMES = ("promoted", "refused", "failed")
STAGES = ("scrubbing", "training", "evaluating")  # in the order a run goes through them


def start(conn: Connection[Any], adapter: str, triggered_by: str,
          corrections: int | None, request_id: int | None = None) -> int | None:
    """A running run (a new row, or the request `request_id` taken up); None when another
    run is running, or the request was taken already."""
    try:
        if request_id is not None:
            row = conn.execute(
                """UPDATE training_runs SET status = 'running', stage = 'queued',
                          started_at = now(), updated_at = now()
                   WHERE id = %s AND status = 'requested' RETURNING id""", (request_id,),
            ).fetchone()
        else:
            row = conn.execute(
                """INSERT INTO training_runs (adapter, triggered_by, corrections)
                   VALUES (%s, %s, %s) RETURNING id""",
                (adapter, triggered_by, corrections),
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        return None
    return int(row["id"]) if row else None


def request(conn: Connection[Any], adapter: str, requested_by: str) -> bool:
    """Ask for a run of `adapter`; False when one is asked for already (it will run)."""
    row = conn.execute(
        """INSERT INTO training_runs (adapter, status, stage, triggered_by)
           VALUES (%s, 'requested', 'waiting for the trainer', %s)
           ON CONFLICT (adapter) WHERE status = 'requested' DO NOTHING RETURNING id""",
        (adapter, requested_by),
    ).fetchone()
    return row is not None


def requests(conn: Connection[Any]) -> list[dict[str, Any]]:
    """The waiting requests, oldest first (`id`, `adapter`, `triggered_by`)."""
    return conn.execute(
        "SELECT id, adapter, triggered_by FROM training_runs WHERE status = 'requested' "
        "ORDER BY id").fetchall()


def heartbeat(conn: Connection[Any], run_id: int) -> None:
    conn.execute("UPDATE training_runs SET updated_at = now() WHERE id = %s", (run_id,))


def trained_through(conn: Connection[Any], run_id: int, at: dt.datetime | None) -> None:
    conn.execute("UPDATE training_runs SET trained_through = %s WHERE id = %s", (at, run_id))


def update(conn: Connection[Any], run_id: int, stage: str, progress: dict[str, Any],
           stage_seconds: dict[str, float], version_id: int | None = None) -> None:
    """Record where the run is (its heartbeat too: `updated_at`)."""
    conn.execute(
        """UPDATE training_runs SET stage = %s, progress = %s, stage_seconds = %s,
                  version_id = coalesce(%s, version_id), updated_at = now()
           WHERE id = %s""",
        (stage, Jsonb(progress), Jsonb(stage_seconds), version_id, run_id),
    )


def finish(conn: Connection[Any], run_id: int, status: str, reason: str,
           stage_seconds: dict[str, float]) -> bool:
    """End a running run; False if it was not running any more (taken for dead)."""
    assert status in OUTCOMES
    row = conn.execute(
        """UPDATE training_runs SET status = %s, reason = %s, stage = 'finished',
                  stage_seconds = %s, finished_at = now(), updated_at = now()
           WHERE id = %s AND status = 'running' RETURNING id""",
        (status, reason, Jsonb(stage_seconds), run_id),
    ).fetchone()
    return row is not None


def mark_stale(conn: Connection[Any], stale_s: float) -> list[int]:
    """Fail the running run whose trainer stopped reporting (killed, its machine gone), so
    the one-at-a-time lock it holds is released."""
    rows = conn.execute(
        """UPDATE training_runs SET status = 'failed', stage = 'finished', finished_at = now(),
                  reason = 'the trainer stopped: no progress for '
                           || round(%s / 60.0) || ' min'
           WHERE status = 'running' AND updated_at < now() - make_interval(secs => %s)
           RETURNING id""",
        (stale_s, stale_s),
    ).fetchall()
    return [r["id"] for r in rows]


def listing(conn: Connection[Any], adapter: str | None = None,
            limit: int = 20) -> list[dict[str, Any]]:
    """Runs, newest first, with the number of the version each trained."""
    return conn.execute(
        """SELECT r.id, r.adapter, r.status, r.stage, r.progress, r.stage_seconds,
                  r.triggered_by,
                  r.corrections, v.version, r.reason, r.started_at, r.updated_at,
                  r.finished_at
           FROM training_runs r LEFT JOIN adapter_versions v ON v.id = r.version_id
           WHERE %s::text IS NULL OR r.adapter = %s ORDER BY r.id DESC LIMIT %s""",
        (adapter, adapter, limit),
    ).fetchall()


def latest(conn: Connection[Any], adapter: str) -> dict[str, Any] | None:
    """The adapter's latest run that started (a request not taken up yet is no run)."""
    return conn.execute(
        "SELECT status, started_at, finished_at FROM training_runs WHERE adapter = %s "
        "AND status <> 'requested' ORDER BY id DESC LIMIT 1", (adapter,),
    ).fetchone()


def last_trained_through(conn: Connection[Any], adapter: str) -> dt.datetime | None:
    """The newest correction a decided run (promoted or refused) learned from: corrections
    saved after it are new."""
    row = conn.execute(
        """SELECT max(trained_through) AS at FROM training_runs
           WHERE adapter = %s AND status IN ('promoted', 'refused')""", (adapter,),
    ).fetchone()
    return row["at"] if row else None


def new_corrections(conn: Connection[Any], document_type: str,
                    since: dt.datetime | None) -> int:
    """Reviewed documents of the type saved after `since` that training may use (converted,
    not set aside for regression)."""
    row = conn.execute(
        """SELECT count(*) AS n FROM training_examples t JOIN documents d ON d.id = t.document_id
           WHERE t.document_type = %s AND d.content IS NOT NULL
             AND (%s::timestamptz IS NULL OR t.updated_at > %s)
             AND NOT EXISTS (SELECT 1 FROM regression_documents g
                             WHERE g.document_id = t.document_id)""",
        (document_type, since, since),
    ).fetchone()
    return int(row["n"]) if row else 0
