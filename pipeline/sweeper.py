"""Self-healing after an outage: what Postgres says is unfinished is queued again.

Redis keeps nothing on disk here, so a Redis restart loses every queued message; a Postgres
outage longer than a task's retries leaves a document `processing` with no task behind it.
Postgres is the source of truth, so the worker's main process sweeps every
`DOCKET_SWEEP_INTERVAL_S` and queues again:
- documents `processing` for longer than any live attempt can last (their task is gone);
- documents `queued` for over `DOCKET_LOST_AFTER_S` while the broker's queue is empty: nothing
  is waiting in front of them, so their message was lost.
A duplicate message is harmless: a finished document's task does nothing (`documents.claim`).
Each sweep also applies the retention rule (`DOCKET_RETENTION_DAYS`): finished documents'
originals older than that are erased, their records kept (`storage.lifecycle`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import redis
from psycopg import Connection

from pipeline.queue import enqueue
from pipeline.settings import Settings
from pipeline.storage import documents
from pipeline.storage.db import connect
from pipeline.storage.lifecycle import erase_originals_older_than

log = logging.getLogger(__name__)
RETRY_BACKOFF_MAX_S = 120  # the longest wait between two attempts of one document
# Celery's Redis transport keeps the default queue in "celery" and, per priority step, in
# "celery\x06\x16N".
QUEUE_KEYS = ("celery", *(f"celery\x06\x16{n}" for n in (3, 6, 9)))


def broker_backlog(broker_url: str) -> int:
    """Messages waiting in the broker's default queue."""
    client = redis.Redis.from_url(broker_url)
    return sum(int(client.llen(key)) for key in QUEUE_KEYS)


def lost_documents(conn: Connection[Any], backlog: int, settings: Settings) -> list[uuid.UUID]:
    lost = documents.stale(conn, older_than_s=settings.task_time_limit_s + RETRY_BACKOFF_MAX_S)
    if backlog == 0:
        lost += documents.waiting(conn, older_than_s=settings.lost_after_s)
    return lost


def sweep(settings: Settings) -> int:
    """Queue again what was lost; returns how many documents."""
    backlog = broker_backlog(settings.broker_url)
    with connect(settings.database_url) as conn:
        lost = lost_documents(conn, backlog, settings)
    if lost:
        log.warning("queueing %d documents again (lost by an outage or a dead worker)",
                    len(lost))
        enqueue(lost)
    return len(lost)


def apply_retention(settings: Settings) -> int:
    """Erase the originals `DOCKET_RETENTION_DAYS` says are too old; returns how many."""
    if settings.retention_days is None:
        return 0
    with connect(settings.database_url) as conn:
        erased = erase_originals_older_than(conn, settings.retention_days)
    if erased:
        log.info("retention: erased %d originals older than %d days", erased,
                 settings.retention_days)
    return erased


def start(settings: Settings) -> threading.Thread | None:
    """Sweep now and then every interval, in a daemon thread; an outage only skips a sweep.
    An interval of 0 switches sweeping off (a worker on a broker of its own, in tests)."""
    if settings.sweep_interval_s <= 0:
        return None

    def loop() -> None:
        stop = threading.Event()
        while True:
            try:
                sweep(settings)
                apply_retention(settings)
            except Exception as exc:  # Redis or Postgres still down: try at the next sweep
                log.warning("sweep skipped: %s", exc)
            stop.wait(settings.sweep_interval_s)

    thread = threading.Thread(target=loop, name="docket-sweeper", daemon=True)
    thread.start()
    return thread
