"""SIGKILL the worker's process at random points while it works through a batch, again and
again: every document still ends exactly once, with one record, and none is lost.

CI runs a short form; the full length (issue 6: ≥ 100 documents, ≥ 20 kills) is
    DOCKET_FAULT_DOCS=100 DOCKET_FAULT_KILLS=20 .venv/bin/python -m pytest \\
        tests/test_worker_kills.py -s
and prints its figures (kills, redeliveries, duplicates, lost, documents per minute).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from typing import Any

import pytest

from pipeline.ingest import Upload, store_uploads
from pipeline.queue import enqueue
from pipeline.storage import documents
from pipeline.storage.db import connect
from tests.test_outages import _outcome, _receipt
from tests.test_worker_recovery import _children

DOCS = int(os.environ.get("DOCKET_FAULT_DOCS", "10"))
KILLS = int(os.environ.get("DOCKET_FAULT_KILLS", "3"))


def _finished(database: str, batch_id: uuid.UUID) -> int:
    with connect(database) as conn:
        counts = documents.batch_counts(conn, batch_id)
    assert counts is not None
    return counts["done"] + counts["needs_review"] + counts["failed"]


def _processing(database: str, batch_id: uuid.UUID) -> bool:
    with connect(database) as conn:
        counts = documents.batch_counts(conn, batch_id)
    return counts is not None and counts["processing"] > 0


# A killed document's message goes back to the end of the queue: the batch ends with them.
@pytest.mark.timeout(600 + 90 * DOCS)
def test_repeated_sigkills_lose_and_duplicate_nothing(
    worker: subprocess.Popen[bytes], database: str, settings: Any,
) -> None:
    assert KILLS < DOCS
    rng = random.Random(6)
    uploads = [Upload(f"kill-{n}.txt", _receipt(n, f"kill{n}")) for n in range(DOCS)]
    with connect(database) as conn:
        result = store_uploads(conn, uploads, settings, "test", "receipt")
    started = time.monotonic()
    enqueue(result.to_process)
    kills = 0
    deadline = started + 120 * DOCS
    while kills < KILLS:
        # Between kills at least one more document finishes, so kills fall on different
        # documents (a document killed DOCKET_MAX_ATTEMPTS times would rightly fail).
        before = _finished(database, result.batch_id)
        while _finished(database, result.batch_id) == before or not _processing(
                database, result.batch_id):
            assert time.monotonic() < deadline, "the batch stopped moving"
            time.sleep(0.2)
        time.sleep(rng.uniform(0.1, 4.0))  # a random point: convert, classify or mid-answer
        children = _children(worker.pid)
        if children:
            os.kill(children[0], signal.SIGKILL)
            kills += 1
    while _finished(database, result.batch_id) < DOCS:
        assert time.monotonic() < deadline, "the batch did not finish"
        time.sleep(1)
    minutes = (time.monotonic() - started) / 60
    figures = _outcome(database, result.batch_id, result.to_process)
    print(f"\n{DOCS} documents, {kills} SIGKILLs: {figures}, "
          f"{DOCS / minutes:.1f} documents/min")
    assert figures["lost"] == 0 and figures["duplicates"] == 0
    assert figures["redeliveries"] >= 1  # the kills did land mid-document
    assert worker.poll() is None
