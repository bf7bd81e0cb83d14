"""Outages of the real services in the middle of a batch processed by the real worker.

- Redis restarted: it keeps nothing on disk, so every queued message is lost.
- Postgres restarted: every connection (the worker's, mid-document) is cut.

After each, every document ends in exactly one terminal state, no record is duplicated, no
upload is lost, and the batch completes once the service is back (the worker's sweeper queues
again what Postgres says is unfinished; see pipeline/sweeper.py).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipeline.ingest import Upload, store_uploads
from pipeline.queue import enqueue
from pipeline.storage import documents
from pipeline.storage.db import connect
from tests.conftest import ROOT

BATCH = 6


def _receipt(n: int, tag: str) -> bytes:
    return (f"CORNER STORE {tag.upper()}\nDate: 0{n % 9 + 1}/03/2025\n"
            f"Milk 1 x {n + 1}.50 {n + 1}.50\nTOTAL {n + 1}.50\nRef {uuid.uuid4()}\n").encode()


def _submit(database: str, settings: Any, tag: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    uploads = [Upload(f"{tag}-{n}.txt", _receipt(n, tag)) for n in range(BATCH)]
    with connect(database) as conn:
        result = store_uploads(conn, uploads, settings, "test", "receipt")
    enqueue(result.to_process)
    return result.batch_id, result.to_process


def _counts(database: str, batch_id: uuid.UUID) -> dict[str, int] | None:
    """Counts by status, or None while Postgres is down."""
    try:
        with connect(database) as conn:
            return documents.batch_counts(conn, batch_id)
    except psycopg.OperationalError:
        return None


def _wait(database: str, batch_id: uuid.UUID, done: Callable[[dict[str, int]], bool],
          timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        counts = _counts(database, batch_id)
        if counts is not None and done(counts):
            return counts
        assert time.monotonic() < deadline, f"batch {batch_id} stuck: {counts}"
        time.sleep(1)


def _settled(counts: dict[str, int]) -> bool:
    return counts["queued"] == 0 and counts["processing"] == 0


def _outcome(database: str, batch_id: uuid.UUID, ids: list[uuid.UUID]) -> dict[str, int]:
    """Every document once, terminal, with one record: the figures, or an assertion."""
    with connect(database) as conn:
        rows = conn.execute(
            """SELECT d.id, d.status, d.attempts,
                      (SELECT count(*) FROM receipts r WHERE r.document_id = d.id) AS records
               FROM batch_documents b JOIN documents d ON d.id = b.document_id
               WHERE b.batch_id = %s""", (batch_id,)).fetchall()
    assert sorted(r["id"] for r in rows) == sorted(ids)  # no upload lost
    assert all(r["status"] in ("done", "needs_review") for r in rows), rows
    assert all(r["records"] == 1 for r in rows), rows  # no record duplicated or missing
    return {"documents": len(rows), "attempts": sum(r["attempts"] for r in rows),
            "redeliveries": sum(r["attempts"] for r in rows) - len(rows),
            "duplicates": sum(r["records"] - 1 for r in rows), "lost": len(ids) - len(rows)}


def _restart_redis() -> None:
    _stop_redis()
    time.sleep(1)
    subprocess.run(["bash", str(ROOT / "scripts" / "services.sh")], check=True)


def _restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=True, capture_output=True)
    subprocess.run(["bash", str(ROOT / "scripts" / "services.sh")], check=True)


needs_services = pytest.mark.skipif(
    not Path("/etc/postgresql").is_dir(), reason="needs the local PostgreSQL to restart it")


@needs_services
@pytest.mark.parametrize("restart", [_restart_redis, _restart_postgres],
                         ids=["redis restarted", "postgres restarted"])
def test_a_batch_completes_after_a_service_restarts_mid_batch(
    restart: Callable[[], None], worker: subprocess.Popen[bytes], database: str,
    settings: Any,
) -> None:
    tag = restart.__name__.removeprefix("_restart_")
    batch_id, ids = _submit(database, settings, tag)
    # Mid-batch: at least one document finished, others still queued or in processing.
    _wait(database, batch_id, lambda c: c["done"] + c["needs_review"] >= 1, timeout=300)
    restart()
    counts = _wait(database, batch_id, _settled, timeout=600)
    figures = _outcome(database, batch_id, ids)
    print(f"\n{tag} restarted mid-batch: {counts} {figures}")
    assert figures["lost"] == 0 and figures["duplicates"] == 0
    assert worker.poll() is None


def _stop_redis() -> None:
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"],
                   capture_output=True, check=False)


def _stop_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop"],
                   check=True, capture_output=True)


@needs_services
@pytest.mark.parametrize("stop", [_stop_redis, _stop_postgres],
                         ids=["redis down", "postgres down"])
def test_the_api_answers_503_with_retry_after_while_a_service_is_down(
    stop: Callable[[], None], database: str, api_keys: dict[str, str],
) -> None:
    from fastapi.testclient import TestClient

    from pipeline.api import app

    client = TestClient(app, headers={"X-API-Key": api_keys["uploader"]})
    assert client.get("/health/ready").json()["status"] == "ready"
    body = _receipt(1, f"outage-{uuid.uuid4()}")
    try:
        stop()
        upload = client.post("/v1/documents", files={"files": ("down.txt", body, "text/plain")},
                             data={"document_type": "receipt"})
        assert upload.status_code == 503, upload.text
        assert int(upload.headers["Retry-After"]) > 0
        assert "cannot be reached" in upload.json()["detail"]
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        down = [name for name, check in ready.json()["checks"].items() if not check["ok"]]
        assert down == (["broker"] if stop is _stop_redis else ["database", "migrations"])
        assert client.get("/health/live").status_code == 200  # the process itself is fine
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "services.sh")], check=True)
    assert client.get("/health/ready").json()["status"] == "ready"
    again = client.post("/v1/documents", files={"files": ("down.txt", body, "text/plain")},
                        data={"document_type": "receipt"})
    assert again.status_code == 202, again.text
    # Redis down: the upload was stored before the queue failed, and is recognised now.
    assert again.json()["documents"][0]["duplicate"] is (stop is _stop_redis)
