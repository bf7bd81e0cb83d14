"""Hostile and broken files (tests/hostile.py, 33 kinds) uploaded in one REST request with a
good receipt, processed by the real worker: each ends in a terminal state, a refusal says why
in words a person can act on, nothing handed over is lost, the worker lives, the batch goes on.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from pipeline.api import app
from pipeline.storage.db import connect
from tests.conftest import SAMPLES, headers, wait_for_batch
from tests.hostile import KINDS

# kind → the words its refusal must contain; kinds not listed may be processed (a PDF with
# JavaScript is still a PDF: its text is read, its script never runs).
REFUSED = {
    "empty pdf": "The file is empty",
    "corrupt pdf": "damaged or incomplete",
    "truncated pdf": "damaged or incomplete",
    "encrypted pdf": "password-protected",
    "pdf header only": "damaged or incomplete",
    "2000-page pdf": "2000 pages; the limit is 200",
    "500-page contract": "500 pages; the limit is 200",
    "zip bomb": "over the 52 MB limit",
    "truncated zip": "damaged ZIP archive",
    "decompression-bomb png": "too large to process (10,000,000,000 pixels",
    "30000x30000 image": "too large to process (900,000,000 pixels",
    "truncated png": "damaged or incomplete",
    "truncated jpeg": "damaged or incomplete",
    "tiff of 300 frames": "300 pages; the limit is 200",
    "exe named pdf": "Windows program",
    "elf binary": "Linux program",
    "random bytes": "unrecognised binary data",
    "nul bytes named txt": "unrecognised binary data",
    "deeply nested html": "nests its elements 20,000 deep",
    "docx billion laughs": "could not be read",
    "docx without a body": "could not be read",
    "xlsx workbook": "Excel workbook",
    "gzip archive": "gzip archive",
}
PROCESSED = set(KINDS) - set(REFUSED)


@pytest.fixture(scope="module")
def hostile_batch(worker: subprocess.Popen[bytes], database: str,
                  api_keys: dict[str, str]) -> dict[str, Any]:
    files = {kind: (name, make()) for kind, (name, make) in KINDS.items()}
    good = (SAMPLES / "receipt-bookshop.pdf").read_bytes() + b"\n% hostile batch copy\n"
    upload = [("files", (name, data)) for name, data in files.values()]
    upload.append(("files", ("good-receipt.pdf", good)))
    client = TestClient(app, headers=headers(api_keys, "uploader"))
    started = time.monotonic()
    response = client.post("/v1/documents", files=upload)
    assert response.status_code == 202, response.text
    body = response.json()
    with connect(database) as conn:
        counts = wait_for_batch(conn, body["batch_id"], timeout=900)
    view = client.get(f"/v1/batches/{body['batch_id']}").json()
    by_name = {d["filename"]: d for d in view["documents"]}
    return {"files": files, "good": good, "counts": counts, "docs": by_name,
            "seconds": time.monotonic() - started}


def _docs_of(batch: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    name = batch["files"][kind][0]
    found = [d for n, d in batch["docs"].items() if n == name or n.startswith(name + "!")]
    assert found, f"{kind}: no document named {name} in {sorted(batch['docs'])}"
    return found


def test_every_hostile_file_ends_in_a_terminal_state_and_the_batch_goes_on(
    hostile_batch: dict[str, Any], worker: subprocess.Popen[bytes],
) -> None:
    assert len(KINDS) >= 30
    counts = hostile_batch["counts"]
    assert counts["queued"] == counts["processing"] == 0
    good = hostile_batch["docs"]["good-receipt.pdf"]
    assert good["status"] in ("done", "needs_review"), good
    assert worker.poll() is None  # the worker survived all of it
    print(f"\n{len(KINDS)} hostile kinds + 1 receipt: {counts} in "
          f"{hostile_batch['seconds']:.0f} s")


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_refusal_says_why(hostile_batch: dict[str, Any], kind: str) -> None:
    for doc in _docs_of(hostile_batch, kind):
        assert doc["status"] == "failed", doc
        assert REFUSED[kind] in doc["error"], doc["error"]
        assert "Internal error" not in doc["error"]


@pytest.mark.parametrize("kind", sorted(PROCESSED))
def test_a_readable_oddity_is_processed_not_crashed(
    hostile_batch: dict[str, Any], kind: str,
) -> None:
    for doc in _docs_of(hostile_batch, kind):
        assert doc["status"] in ("done", "needs_review", "failed"), doc
        if doc["status"] == "failed":  # e.g. the router cannot tell a 3-word page's type
            assert "Internal error" not in doc["error"] and doc["error"], doc


def test_nothing_handed_over_is_lost(hostile_batch: dict[str, Any],
                                     conn: psycopg.Connection) -> None:
    """Every upload's bytes are kept, byte for byte (a zip's files, each on its own)."""
    for kind, (name, data) in hostile_batch["files"].items():
        for doc in _docs_of(hostile_batch, kind):
            row = conn.execute("SELECT b.data FROM blobs b JOIN documents d"
                               " ON d.sha256 = b.sha256 WHERE d.id = %s",
                               (doc["id"],)).fetchone()
            assert row is not None, kind
            # A plain upload keeps its very bytes; a zip's file its own, or (refused) the zip's.
            kept = bytes(row["data"])
            if doc["filename"] == name:
                assert kept == data, kind
            else:
                assert kept, kind
    escaped = _docs_of(hostile_batch, "zip climbing out")
    assert {d["filename"] for d in escaped} == {"escape.zip!../../etc/passwd.txt",
                                                "escape.zip!/abs/path.txt"}
