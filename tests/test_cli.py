"""The `docket` command as a user runs it: ingest a folder and a zip, extract as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import psycopg
import redis

from pipeline.storage import documents
from tests.conftest import ROOT, SAMPLES


def docket(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})}, check=False)


def test_ingest_folder_and_zip_makes_one_batch(
    tmp_path: Path, conn: psycopg.Connection, settings: Any
) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "note.md").write_text(f"# Receipt {uuid.uuid4()}\nTOTAL 3.00\n")
    (folder / "picture.gif").write_bytes(b"GIF89a" + os.urandom(32))
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner/receipt.txt", f"TOTAL 4.00 {uuid.uuid4()}")
        zf.writestr("../escape.txt", f"TOTAL 5.00 {uuid.uuid4()}")
    broker = "redis://127.0.0.1:6379/14"  # not the test worker's queue: nothing runs here
    redis.Redis.from_url(broker).flushdb()
    result = docket("ingest", str(folder), str(archive), env={"DOCKET_BROKER_URL": broker})
    assert result.returncode == 0, result.stderr
    batch_id = uuid.UUID(result.stdout.strip().splitlines()[-1])
    assert "3 queued" in result.stderr and "1 refused" in result.stderr
    rows = {r["filename"].removeprefix(str(tmp_path) + "/"): r
            for r in documents.batch_documents(conn, batch_id)}
    assert set(rows) == {"scans/note.md", "scans/picture.gif", "more.zip!inner/receipt.txt",
                         "more.zip!../escape.txt"}
    gif = rows["scans/picture.gif"]
    assert gif["status"] == "failed" and "GIF" in gif["error"]
    assert redis.Redis.from_url(broker).llen("celery") == 3
    assert not (tmp_path.parent / "escape.txt").exists()  # zip names are labels, never paths


def test_ingest_missing_path_says_so() -> None:
    result = docket("ingest", "/no/such/folder")
    assert result.returncode == 2 and "No such file or folder" in result.stderr


def test_extract_jsonl_contract() -> None:
    result = docket("extract", str(SAMPLES / "receipt-bookshop.pdf"), "--type", "receipt",
                    "--jsonl")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == {"file", "document_type", "record", "valid", "errors", "timings_ms",
                         "adapter", "fields"}
    assert line["document_type"] == "receipt" and line["adapter"] == "receipt"
    total = next(f for f in line["fields"] if f["path"] == "total")
    assert 0 < total["confidence"] <= 1
    if total["value"] is not None and total["page"] is not None:  # found in the text layer
        assert total["page"] == 1 and total["bboxes"] and total["char_end"] > total["char_start"]
    assert set(line["record"]) >= {"merchant_name", "merchant_address", "date", "currency",
                                   "items", "subtotal", "tax", "total", "payment_method"}
    assert line["valid"] == (line["errors"] == [])
    assert line["timings_ms"]["extract"] > 0
