"""The document lifecycle through the real app and Postgres: listing with filters and pages,
the original back as an attachment, processing again, erasure with its audit trail, and
retention (originals erased, records kept)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from pipeline import doctypes, sweeper
from pipeline.api import app
from pipeline.storage import documents, records
from tests.conftest import headers
from tests.test_storage import _run

RECORD = {"merchant_name": "A", "merchant_address": None, "date": "2024-01-02",
          "date_text": "02/01/2024", "currency": "USD", "subtotal": None, "tax": None,
          "total": "3.00", "payment_method": None,
          "items": [{"description": "x", "quantity": "1", "unit_price": "3.00", "amount": "3.00"}]}


@pytest.fixture
def clients(api_keys: dict[str, str]) -> dict[str, TestClient]:
    return {role: TestClient(app, headers=headers(api_keys, role))
            for role in ("uploader", "reviewer", "admin")}


def _upload(client: TestClient, count: int) -> tuple[str, list[str], list[bytes]]:
    tag = uuid.uuid4().hex
    bodies = [f"SHOP {tag}\nTOTAL {n}.00\n".encode() for n in range(count)]
    response = client.post("/v1/documents", data={"document_type": "receipt"},
                           files=[("files", (f"r{n}-ü.txt", body, "text/plain"))
                                  for n, body in enumerate(bodies)])
    assert response.status_code == 202, response.text
    answer = response.json()
    return answer["batch_id"], [d["id"] for d in answer["documents"]], bodies


def _finish(conn: psycopg.Connection, document_id: str) -> None:
    """As a worker would leave it: a run, a record, status done."""
    with conn.transaction():
        records.save_run(conn, uuid.UUID(document_id), doctypes.get("receipt"), _run(), RECORD)
    documents.set_status(conn, uuid.UUID(document_id), "done")


def test_documents_and_batches_are_listed_with_filters_and_pages(
    clients: dict[str, TestClient], conn: psycopg.Connection,
) -> None:
    reader = clients["reviewer"]
    batch_id, ids, _ = _upload(clients["uploader"], 3)
    _finish(conn, ids[0])
    page = reader.get("/v1/documents", params={"batch_id": batch_id, "limit": 2}).json()
    assert page["total"] == 3 and len(page["documents"]) == 2
    rest = reader.get("/v1/documents",
                      params={"batch_id": batch_id, "limit": 2, "offset": 2}).json()
    assert {d["id"] for d in page["documents"] + rest["documents"]} == set(ids)
    done = reader.get("/v1/documents", params={"batch_id": batch_id, "status": "done"}).json()
    assert [d["id"] for d in done["documents"]] == [ids[0]]
    typed = reader.get("/v1/documents", params={"batch_id": batch_id,
                                                "document_type": "contract"}).json()
    assert typed["total"] == 0
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert reader.get("/v1/documents", params={"batch_id": batch_id,
                                               "uploaded_from": later}).json()["total"] == 0
    assert reader.get("/v1/documents", params={"batch_id": batch_id,
                                               "uploaded_to": later}).json()["total"] == 3
    assert reader.get("/v1/documents", params={"status": "lost"}).status_code == 422
    batches = reader.get("/v1/batches", params={"limit": 1}).json()
    assert batches["total"] >= 1 and batches["batches"][0]["id"] == batch_id
    assert batches["batches"][0]["counts"]["done"] == 1
    assert batches["batches"][0]["total"] == 3 and not batches["batches"][0]["finished"]


def test_the_original_comes_back_as_uploaded(clients: dict[str, TestClient]) -> None:
    _, ids, bodies = _upload(clients["uploader"], 1)
    response = clients["reviewer"].get(f"/v1/documents/{ids[0]}/original")
    assert response.status_code == 200 and response.content == bodies[0]
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''r0-%C3%BC.txt" in response.headers["content-disposition"]
    missing = clients["reviewer"].get(f"/v1/documents/{uuid.uuid4()}/original")
    assert missing.status_code == 404


def test_a_finished_document_is_processed_again_on_request(
    clients: dict[str, TestClient], conn: psycopg.Connection,
) -> None:
    _, ids, _ = _upload(clients["uploader"], 1)
    path = f"/v1/documents/{ids[0]}/reprocess"
    assert clients["reviewer"].post(path).status_code == 403  # reviewers do not upload
    documents.set_status(conn, uuid.UUID(ids[0]), "processing")
    assert clients["uploader"].post(path).status_code == 409  # in flight already
    _finish(conn, ids[0])
    again = clients["uploader"].post(path)
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "queued"


def test_an_admin_erases_a_document_and_the_audit_keeps_no_content(
    clients: dict[str, TestClient], conn: psycopg.Connection, api_keys: dict[str, str],
) -> None:
    batch_id, ids, bodies = _upload(clients["uploader"], 1)
    _finish(conn, ids[0])
    doc = documents.get_document(conn, uuid.UUID(ids[0]))
    assert doc is not None
    assert clients["uploader"].delete(f"/v1/documents/{ids[0]}").status_code == 403
    assert clients["admin"].delete(f"/v1/documents/{ids[0]}").status_code == 204
    assert clients["admin"].get(f"/v1/documents/{ids[0]}").status_code == 404
    assert clients["admin"].delete(f"/v1/documents/{ids[0]}").status_code == 404
    for table, column, value in (("blobs", "sha256", doc["sha256"]),
                                 ("extraction_runs", "document_id", ids[0]),
                                 ("receipts", "document_id", ids[0]),
                                 ("extracted_fields", "document_id", ids[0]),
                                 ("batches", "id", batch_id)):
        row = conn.execute(f"SELECT count(*) AS n FROM {table} WHERE {column} = %s",
                           (value,)).fetchone()
        assert row is not None and row["n"] == 0, table
    audit = conn.execute("SELECT * FROM erasures WHERE document_id = %s", (ids[0],)).fetchall()
    assert len(audit) == 1 and audit[0]["what"] == "document"
    assert audit[0]["erased_by"] == "test-admin" and audit[0]["key_id"] is not None
    assert set(audit[0]) == {"id", "document_id", "what", "erased_by", "key_id", "erased_at"}
    assert all(bodies[0].decode() not in str(v) for v in audit[0].values())


def test_retention_erases_old_originals_and_keeps_their_records(
    clients: dict[str, TestClient], conn: psycopg.Connection, settings: Any,
) -> None:
    _, (old, young), bodies = _upload(clients["uploader"], 2)
    for document_id in (old, young):
        _finish(conn, document_id)
    conn.execute("UPDATE documents SET created_at = now() - interval '40 days' WHERE id = %s",
                 (old,))
    assert sweeper.apply_retention(settings) == 0  # DOCKET_RETENTION_DAYS unset: keep all
    assert sweeper.apply_retention(settings.model_copy(update={"retention_days": 30})) >= 1
    reader = clients["reviewer"]
    assert reader.get(f"/v1/documents/{old}/original").status_code == 410
    assert reader.get(f"/v1/documents/{young}/original").status_code == 200
    kept = reader.get(f"/v1/documents/{old}").json()
    assert kept["record"]["total"] == "3.00" or kept["record"]["total"] == 3.0
    listed = reader.get("/v1/documents", params={"status": "done", "limit": 500}).json()
    flags = {d["id"]: d["original_erased"] for d in listed["documents"]}
    assert flags.get(old) is True and flags.get(young) is False
    assert clients["uploader"].post(f"/v1/documents/{old}/reprocess").status_code == 409
    audit = conn.execute("SELECT what, erased_by FROM erasures WHERE document_id = %s",
                         (old,)).fetchall()
    assert [(a["what"], a["erased_by"]) for a in audit] == [("original", "retention (30 days)")]
    # The same bytes uploaded again bring the original back.
    again = clients["uploader"].post("/v1/documents", data={"document_type": "receipt"},
                                     files={"files": ("again.txt", bodies[0], "text/plain")})
    assert again.json()["documents"][0] == {"id": old, "filename": "again.txt",
                                            "duplicate": True}
    assert reader.get(f"/v1/documents/{old}/original").content == bodies[0]
