"""A worker process killed mid-document loses nothing: the task is redelivered and finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

import psycopg

from pipeline.ingest import Upload, store_uploads
from pipeline.queue import enqueue
from pipeline.storage import documents
from tests.conftest import SAMPLES, scanned_pages, wait_for_batch


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def test_sigkill_mid_document_is_redelivered(
    worker: subprocess.Popen[bytes], conn: psycopg.Connection, settings: Any
) -> None:
    data = scanned_pages(SAMPLES / "receipt-hardware.jpg", pages=4)  # ~4 s of OCR, then more
    result = store_uploads(conn, [Upload("killed.pdf", data)], settings, "test", "receipt")
    (doc_id,) = result.to_process
    enqueue([doc_id])
    deadline = time.monotonic() + 120
    while (doc := documents.get_document(conn, doc_id)) and doc["status"] != "processing":
        assert time.monotonic() < deadline, f"never started: {doc}"
        time.sleep(0.2)
    time.sleep(2)  # well inside its OCR
    (child,) = _children(worker.pid)
    os.kill(child, signal.SIGKILL)

    counts = wait_for_batch(conn, result.batch_id, timeout=300)
    doc = documents.get_document(conn, doc_id)
    assert doc is not None and counts["failed"] == 0, doc
    assert doc["status"] in ("done", "needs_review")
    assert doc["attempts"] == 2  # the killed attempt and the redelivered one
    rows = conn.execute("SELECT count(*) AS n FROM receipts WHERE document_id = %s",
                        (doc_id,)).fetchone()
    assert rows is not None and rows["n"] == 1
    assert worker.poll() is None  # the worker itself lives on with a new child
