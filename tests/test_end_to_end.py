"""The whole path on real parts: REST upload → Redis → a real Celery worker process → the real
model → validated records in Postgres. Bad input in the same batch fails alone, bytes kept."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from pipeline.api import app
from pipeline.storage.db import connect
from tests import hostile
from tests.conftest import SAMPLES, headers, wait_for_batch


@pytest.fixture(scope="module")
def batch(database: str, worker: Any, api_keys: dict[str, str]) -> dict[str, Any]:
    """Upload the samples plus four bad files in one request and wait for the batch."""
    good = ["receipt-cafe.png", "receipt-bookshop.pdf", "contract-nda.pdf"]
    bad = {
        "corrupt.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage, cut here",
        "encrypted.pdf": hostile.encrypted_pdf(),
        "empty.pdf": b"",
        "tool.exe": b"MZ\x90\x00\x03\x00\x00\x00 this is not a document",
    }
    files = [("files", (name, (SAMPLES / name).read_bytes())) for name in good]
    files += [("files", (name, data)) for name, data in bad.items()]
    client = TestClient(app, headers=headers(api_keys, "uploader"))
    # A request with nothing processable is refused with a 4xx that says why…
    refused = client.post("/v1/documents", files=[("files", ("tool.exe", bad["tool.exe"]))])
    assert refused.status_code == 415 and "Windows program" in refused.json()["detail"]
    # …in a mixed batch the bad files end `failed` and the rest goes on.
    response = client.post("/v1/documents", files=files)
    assert response.status_code == 202, response.text
    body = response.json()
    with connect(database) as conn:
        counts = wait_for_batch(conn, body["batch_id"])
    return {"client": client, "body": body, "counts": counts}


def _by_name(batch: dict[str, Any]) -> dict[str, dict[str, Any]]:
    client = batch["client"]
    return {d["filename"]: client.get(f"/v1/documents/{d['id']}").json()
            for d in batch["body"]["documents"]}


def test_batch_completes_with_every_document_accounted_for(batch: dict[str, Any]) -> None:
    counts = batch["counts"]
    assert counts["queued"] == counts["processing"] == 0
    assert sum(counts.values()) == 7
    assert counts["failed"] == 4  # the four bad files, nothing else
    view = batch["client"].get(f"/v1/batches/{batch['body']['batch_id']}").json()
    assert view["finished"] and view["total"] == 7


def test_bad_files_fail_with_reasons_and_keep_their_bytes(
    batch: dict[str, Any], conn: psycopg.Connection
) -> None:
    docs = _by_name(batch)
    assert docs["empty.pdf"]["status"] == "failed" and "empty" in docs["empty.pdf"]["error"]
    assert "password" in docs["encrypted.pdf"]["error"].lower()
    assert docs["corrupt.pdf"]["status"] == "failed"
    assert "corrupt" in docs["corrupt.pdf"]["error"].lower() or \
        "damaged" in docs["corrupt.pdf"]["error"].lower()
    assert "not a PDF" in docs["tool.exe"]["error"] or "program" in docs["tool.exe"]["error"]
    for name in ("empty.pdf", "encrypted.pdf", "corrupt.pdf", "tool.exe"):
        row = conn.execute(
            "SELECT b.size FROM documents d JOIN blobs b ON b.sha256 = d.sha256 WHERE d.id = %s",
            (docs[name]["id"],),
        ).fetchone()
        assert row is not None


def test_receipts_and_contracts_land_in_typed_tables(
    batch: dict[str, Any], conn: psycopg.Connection
) -> None:
    docs = _by_name(batch)
    for name, doc_type in (("receipt-cafe.png", "receipt"), ("receipt-bookshop.pdf", "receipt"),
                           ("contract-nda.pdf", "contract")):
        doc = docs[name]
        assert doc["status"] in ("done", "needs_review"), doc
        assert doc["document_type"] == doc_type
        assert doc["record"] is not None and doc["model"] == "gemma-3-270m"
        assert set(doc["timings_ms"]) >= {"convert", "classify", "extract"}
        if doc["status"] == "needs_review":
            assert doc["violations"] and doc["error"].startswith("Needs review")
        assert doc["adapter"] == doc_type  # the type's adapter was activated
        fields = {f["path"]: f for f in doc["fields"]}
        assert fields and all(0 <= f["confidence"] <= 1 for f in fields.values())
        located = [f for f in fields.values() if f["page"] is not None]
        assert located and all(f["bboxes"] for f in located), fields  # boxes from the converter
    receipts = conn.execute(
        "SELECT r.* FROM receipts r JOIN documents d ON d.id = r.document_id"
        " WHERE d.filename IN ('receipt-cafe.png', 'receipt-bookshop.pdf')"
    ).fetchall()
    assert len(receipts) == 2
    contract = conn.execute(
        "SELECT c.*, (SELECT count(*) FROM contract_parties p WHERE p.document_id = c.document_id)"
        " AS n_parties FROM contracts c JOIN documents d ON d.id = c.document_id"
        " WHERE d.filename = 'contract-nda.pdf'"
    ).fetchone()
    assert contract is not None and contract["n_parties"] >= 1
    runs = conn.execute(
        "SELECT output_tokens, tokens_per_s, timings_ms FROM extraction_runs"
        " WHERE source = 'model'"  # a reviewer's run writes no tokens
    ).fetchall()
    assert runs and all(r["output_tokens"] > 0 and r["tokens_per_s"] > 0 for r in runs)
    stored = conn.execute("SELECT count(*) AS n, count(page) AS located FROM extracted_fields"
                          ).fetchone()
    assert stored is not None and stored["n"] > 0 and stored["located"] > 0


def test_uploading_the_same_bytes_again_is_not_a_new_job(batch: dict[str, Any]) -> None:
    name = "receipt-cafe.png"
    again = batch["client"].post(
        "/v1/documents", files=[("files", (name, (SAMPLES / name).read_bytes()))]
    ).json()
    first = next(d for d in batch["body"]["documents"] if d["filename"] == name)
    assert again["documents"][0]["id"] == first["id"] and again["documents"][0]["duplicate"]


def test_upload_limits_answer_4xx(settings: Any, api_keys: dict[str, str]) -> None:
    client = TestClient(app, headers=headers(api_keys, "admin"))
    too_big = b"%PDF-1.4\n" + b"0" * (settings.max_upload_bytes + 1)
    response = client.post("/v1/documents", files=[("files", ("big.pdf", too_big))])
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    response = client.post("/v1/documents", data={"document_type": "memorandum"},
                           files=[("files", ("a.txt", b"hello"))])
    assert response.status_code == 422
    assert client.get("/v1/documents/00000000-0000-0000-0000-000000000000").status_code == 404
