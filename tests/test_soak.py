"""Soak: one large batch through the REST endpoint (a real `docket api` process) with two real
workers; every document accounted for, no record twice, worker RSS sampled throughout.

CI runs a short form; the full length (issue 6: 1,000 documents) is
    DOCKET_SOAK_DOCS=1000 .venv/bin/python -m pytest tests/test_soak.py -s
It prints documents per minute and each worker process's RSS over time.

The batch mixes the bundled samples (text-layer PDFs, OCR'd PNG/JPG, a DOCX through docling),
each made unique without changing its content (bytes after a PDF's end or an image's end marker,
a zip comment in the DOCX), and generated plain-text receipts and contracts. No type hints:
the router decides, as it would for a back office's upload.
"""

from __future__ import annotations

import io
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, SAMPLES, headers, start_worker, stop_worker
from tests.test_worker_recovery import _children

DOCS = int(os.environ.get("DOCKET_SOAK_DOCS", "12"))
SAMPLE_NAMES = ["receipt-bookshop.pdf", "contract-nda.pdf", "receipt-cafe.png",
                "receipt-hardware.jpg", "contract-services.docx"]


def _unique(name: str, data: bytes, n: int) -> bytes:
    """The same document, different bytes (Docket stores identical bytes once)."""
    if name.endswith(".docx"):
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
            for item in src.infolist():
                dst.writestr(item, src.read(item.filename))
            dst.comment = f"soak copy {n}".encode()
        return out.getvalue()
    return data + f"\n% soak copy {n}\n".encode()


def _text_receipt(n: int) -> bytes:
    items = [(f"Item {n}-{k}", k + 1, (n % 7) + k + 0.5) for k in range(1 + n % 3)]
    lines = [f"{q} x {p:.2f} {q * p:.2f}  {name}" for name, q, p in items]
    total = sum(q * p for _, q, p in items)
    text = "\n".join([f"MARKET {n} SDN BHD", f"{n} Jalan Soak, 50450 Kuala Lumpur",
                      f"Date: {n % 28 + 1:02d}/05/2025", "RECEIPT", *lines,
                      f"TOTAL RM {total:.2f}", "THANK YOU", f"Ref {uuid.uuid4()}"])
    return (text + "\n").encode()


def _text_contract(n: int) -> bytes:
    return (f"MUTUAL NON-DISCLOSURE AGREEMENT\n\nThis Agreement is entered into as of March "
            f"{n % 28 + 1}, 2025 by and between Alpha {n} Inc., a Delaware corporation, and "
            f"Beta {n} LLC, a New York limited liability company.\n\n1. Confidential Information "
            "means any information disclosed by either party.\n2. Term. This Agreement remains "
            "in effect for two (2) years from the Effective Date.\n3. Governing Law. This "
            "Agreement is governed by the laws of the State of Delaware.\n\nRef "
            f"{uuid.uuid4()}\n").encode()


def _corpus(count: int) -> list[tuple[str, bytes]]:
    samples = {name: (SAMPLES / name).read_bytes() for name in SAMPLE_NAMES}
    files = []
    for n in range(count):
        kind = n % 4
        if kind in (0, 1):  # half the batch: the samples, one after another
            name = SAMPLE_NAMES[(n // 2 + n) % len(SAMPLE_NAMES)]
            stem, ext = name.rsplit(".", 1)
            files.append((f"{stem}-{n}.{ext}", _unique(name, samples[name], n)))
        elif kind == 2:
            files.append((f"receipt-{n}.txt", _text_receipt(n)))
        else:
            files.append((f"contract-{n}.txt", _text_contract(n)))
    return files


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


@pytest.mark.timeout(900 + 20 * DOCS)
def test_a_large_batch_through_rest_with_two_workers(
    database: str, broker: str, api_keys: dict[str, str],
) -> None:
    port = _free_port()
    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    with (logs / "soak-api.log").open("wb") as log:
        api = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "api", "--port", str(port)],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    one_thread = {"DOCKET_MODEL_THREADS": "1"}  # two workers share the two cores
    workers = [start_worker(logs / f"soak-worker-{k}.log", one_thread) for k in range(2)]
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300,
                          headers=headers(api_keys, "admin"))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (logs / "soak-api.log").read_text()[-2000:]
            time.sleep(0.5)
        files = _corpus(DOCS)
        started = time.monotonic()
        response = client.post("/v1/documents",
                               files=[("files", (name, data)) for name, data in files])
        assert response.status_code == 202, response.text
        batch_id = response.json()["batch_id"]
        samples: dict[int, list[tuple[float, float]]] = {}
        batch: dict[str, Any] = {}
        while time.monotonic() - started < 900 + 20 * DOCS:
            for worker in workers:
                for pid in _children(worker.pid):
                    now = _rss_mb(pid)
                    if now is not None:
                        samples.setdefault(pid, []).append((time.monotonic() - started, now))
            batch = client.get(f"/v1/batches/{batch_id}").json()
            if batch["finished"]:
                break
            time.sleep(5)
        minutes = (time.monotonic() - started) / 60
        counts = batch["counts"]
        print(f"\nsoak: {DOCS} documents in {minutes:.1f} min = {DOCS / minutes:.1f} documents/min "
              f"with 2 workers; {counts}")
        for pid, series in samples.items():
            rss = [value for _, value in series]
            quarter = max(1, len(rss) // 4)
            by_quarter = [round(statistics.median(rss[k * quarter:(k + 1) * quarter] or rss[-1:]))
                          for k in range(4)]
            print(f"  worker process {pid}: {len(rss)} samples over {series[-1][0] / 60:.1f} min, "
                  f"RSS median by quarter {by_quarter} MB, max {max(rss):.0f}")
        assert batch["finished"], f"the batch did not finish: {counts}"
        assert batch["total"] == DOCS
        assert counts.get("queued", 0) == 0 and counts.get("processing", 0) == 0
        finished = counts.get("done", 0) + counts.get("needs_review", 0) + counts.get("failed", 0)
        assert finished == DOCS  # every upload accounted for, in exactly one terminal state
        _assert_one_record_each(database, batch_id)
        for pid, series in samples.items():  # after warm-up, RSS settles; it does not climb
            rss = [value for _, value in series]
            if len(rss) >= 24:  # two minutes of samples; a short run has no steady state
                quarter = len(rss) // 4  # the first quarter is warm-up (models, grammars load)
                growth = statistics.median(rss[-quarter:]) - statistics.median(
                    rss[quarter:2 * quarter])
                assert growth < 300, f"worker process {pid} grew {growth:.0f} MB during the batch"
    finally:
        client.close()
        for worker in workers:
            stop_worker(worker)
        api.terminate()
        api.wait(30)


def _assert_one_record_each(database: str, batch_id: str) -> None:
    from pipeline import doctypes
    from pipeline.storage.db import connect

    counts = " + ".join(f"(select count(*) from {t.table} x where x.document_id = d.id)"
                        for t in doctypes.REGISTRY.values())
    with connect(database) as conn:
        rows = conn.execute(
            f"""select d.id, d.status, d.document_type, {counts} as records
               from documents d join batch_documents b on b.document_id = d.id
               where b.batch_id = %s""", (batch_id,)).fetchall()
    assert len(rows) == DOCS
    for row in rows:
        expected = 1 if row["status"] in ("done", "needs_review") else 0
        assert row["records"] == expected, (
            f"{row['id']} ({row['document_type']}, {row['status']}) has {row['records']} records")
