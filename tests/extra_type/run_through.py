"""One memo through every layer, in a process whose registry holds the extra `memo` type
(`DOCKET_EXTRA_DOCTYPES=tests.extra_type`): migrations, storage and processing with the real
model, the records API, the review page and a correction. Prints one JSON line of what it saw;
`tests/test_type_is_one_package.py` runs it and checks that line."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from pipeline import doctypes
from pipeline.api import app
from pipeline.process import process_document
from pipeline.settings import get_settings
from pipeline.slm.factory import get_runtime
from pipeline.storage.db import connect, migrate
from pipeline.storage.documents import add_document, create_batch
from pipeline.storage.keys import create_key

MEMO = Path(__file__).with_name("memo.txt")


def main() -> None:
    settings = get_settings()
    migrate(settings.database_url)
    with connect() as conn:
        stored = add_document(conn, create_batch(conn, "extra-type"), MEMO.name,
                              MEMO.read_bytes(), type_hint="memo")
        analyst = create_key(conn, "extra-analyst", "analyst")[1]
        reviewer = create_key(conn, "extra-reviewer", "reviewer")[1]
    process_document(stored.document_id, get_runtime(settings), settings)
    with connect() as conn:
        status = conn.execute("SELECT status, document_type FROM documents WHERE id = %s",
                              (stored.document_id,)).fetchone()
        table_row = conn.execute("SELECT subject, author, date_text FROM memos "
                                 "WHERE document_id = %s", (stored.document_id,)).fetchone()
    client = TestClient(app)
    listed = client.get("/v1/records/memo", headers={"X-API-Key": analyst})
    detail = client.get(f"/v1/records/memo/{stored.document_id}",
                        headers={"X-API-Key": analyst})
    page = client.get(f"/review/documents/{stored.document_id}",
                      headers={"X-API-Key": reviewer})
    corrected = client.post(f"/v1/documents/{stored.document_id}/corrections",
                            json={"edits": {"subject": "Quarterly supplier payment review"}},
                            headers={"X-API-Key": reviewer})
    after = client.get(f"/v1/records/memo/{stored.document_id}",
                       headers={"X-API-Key": analyst})
    print(json.dumps({
        "registered": list(doctypes.REGISTRY),
        "status": status, "table_row": table_row,
        "listed": [listed.status_code, listed.json()],
        "detail": [detail.status_code, detail.json()],
        "page": [page.status_code, page.text],
        "corrected": [corrected.status_code, corrected.json()],
        "after": [after.status_code, after.json()],
    }, default=str))


if __name__ == "__main__":
    main()
