"""Limits on a real worker: a document past its time limit fails with the reason and the worker
goes on; a document whose worker keeps dying (a poison document) fails after
DOCKET_MAX_ATTEMPTS instead of taking the workers down forever.

A worker of its own, with tight limits, on a broker database of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import redis
from celery import Celery

from pipeline.queue import PROCESS_TASK
from pipeline.storage import documents
from tests.conftest import ROOT, SAMPLES, scanned_pages, start_worker, stop_worker
from tests.test_worker_recovery import _children

BROKER = "redis://127.0.0.1:6379/8"
LIMITS = {"DOCKET_BROKER_URL": BROKER, "DOCKET_MAX_ATTEMPTS": "2",
          "DOCKET_TASK_SOFT_TIME_LIMIT_S": "4", "DOCKET_TASK_TIME_LIMIT_S": "30",
          "DOCKET_SWEEP_INTERVAL_S": "0"}  # it must not take the session worker's documents


@pytest.fixture(scope="module")
def strict_worker(database: str) -> Iterator[subprocess.Popen[bytes]]:
    redis.Redis.from_url(BROKER).flushdb()
    proc = start_worker(ROOT / "test-artifacts" / "strict-worker.log", LIMITS)
    yield proc
    stop_worker(proc)
    redis.Redis.from_url(BROKER).flushdb()


def _submit(conn: psycopg.Connection, name: str, data: bytes) -> uuid.UUID:
    stored = documents.add_document(conn, documents.create_batch(conn, "test"), name, data,
                                    "receipt")
    Celery(broker=BROKER).send_task(PROCESS_TASK, args=[str(stored.document_id)])
    return stored.document_id


def _wait(conn: psycopg.Connection, doc_id: uuid.UUID, statuses: tuple[str, ...],
          timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (doc := documents.get_document(conn, doc_id)) and doc["status"] not in statuses:
        assert time.monotonic() < deadline, f"still {doc['status']}: {doc}"
        time.sleep(0.2)
    assert doc is not None
    return doc


def test_a_document_over_its_time_limit_fails_and_the_worker_goes_on(
    strict_worker: subprocess.Popen[bytes], conn: psycopg.Connection,
) -> None:
    data = scanned_pages(SAMPLES / "receipt-hardware.jpg", pages=10)  # OCR: ~1 s a page
    doc = _wait(conn, _submit(conn, "slow.pdf", data), ("done", "needs_review", "failed"))
    assert doc["status"] == "failed", doc
    assert "longer than the 4 s allowed" in doc["error"]
    assert "DOCKET_TASK_SOFT_TIME_LIMIT_S" in doc["error"]
    assert strict_worker.poll() is None and _children(strict_worker.pid)
    kept = conn.execute("SELECT b.size FROM blobs b JOIN documents d ON d.sha256 = b.sha256"
                        " WHERE d.id = %s", (doc["id"],)).fetchone()
    assert kept is not None and kept["size"] == len(data)  # the original is kept


def test_a_document_that_keeps_killing_its_worker_fails_after_max_attempts(
    strict_worker: subprocess.Popen[bytes], conn: psycopg.Connection,
) -> None:
    data = (SAMPLES / "receipt-cafe.png").read_bytes() + b"poison test copy"
    doc_id = _submit(conn, "poison.png", data)
    kills = 0
    while True:
        doc = _wait(conn, doc_id, ("processing", "failed", "done", "needs_review"))
        if doc["status"] != "processing":
            break
        started = doc["attempts"]
        time.sleep(0.5)
        (child,) = _children(strict_worker.pid)
        os.kill(child, signal.SIGKILL)  # as the OOM killer would, every time it is tried
        kills += 1
        # Wait for the redelivery to claim it again (or fail it) before the next kill.
        deadline = time.monotonic() + 240
        while (again := documents.get_document(conn, doc_id)) and (
                again["status"] == "processing" and again["attempts"] == started):
            assert time.monotonic() < deadline, again
            time.sleep(0.2)
    assert kills == 2, (kills, doc)
    assert doc["status"] == "failed" and doc["attempts"] == 3
    assert "started 2 times and never finished" in doc["error"]
    assert "DOCKET_MAX_ATTEMPTS=2" in doc["error"] and "docket reprocess" in doc["error"]
    assert strict_worker.poll() is None  # the worker survives with a new child
