"""`POST /v1/extract` on real parts: the app, Postgres, Redis and the real worker process. One
file in, its record, fields and timings in the same response; past `wait_s`, 202 and an id to
poll; the same bytes again are the same document."""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from typing import Any

from fastapi.testclient import TestClient

from pipeline.api import app
from tests.conftest import headers


def _receipt() -> bytes:
    return (f"CORNER STORE {uuid.uuid4().hex[:8].upper()}\nDate: 02/03/2025\n"
            "Milk 1 x 2.50 2.50\nTOTAL 2.50\n").encode()


def test_one_file_in_its_record_out(worker: Any, api_keys: dict[str, str]) -> None:
    client = TestClient(app, headers=headers(api_keys, "uploader"))
    body = _receipt()
    answer = client.post("/v1/extract", files={"file": ("now.txt", body, "text/plain")},
                         data={"document_type": "receipt", "wait_s": "240"})
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["status"] in ("done", "needs_review") and view["document_type"] == "receipt"
    assert view["record"] is not None and view["timings_ms"]["extract"] > 0
    assert any(f["path"] == "total" and f["confidence"] is not None for f in view["fields"])
    # The same bytes again: the same document, answered at once without new work.
    started = time.monotonic()
    again = client.post("/v1/extract", files={"file": ("again.txt", body, "text/plain")},
                        data={"wait_s": "0"})
    assert again.status_code == 200 and again.json()["id"] == view["id"]
    assert again.json()["record"] == view["record"] and time.monotonic() - started < 5


def test_past_its_wait_it_answers_202_with_the_document_to_poll(
    worker: Any, api_keys: dict[str, str],
) -> None:
    client = TestClient(app, headers=headers(api_keys, "uploader"))
    answer = client.post("/v1/extract",
                         files={"file": ("later.txt", _receipt(), "text/plain")},
                         data={"document_type": "receipt", "wait_s": "0"})
    assert answer.status_code == 202, answer.text
    pending = answer.json()
    assert answer.headers["Location"] == f"/v1/documents/{pending['id']}"
    assert pending["status"] in ("queued", "processing") and "GET /v1/documents/" in \
        pending["detail"]
    deadline = time.monotonic() + 240
    while (doc := client.get(answer.headers["Location"]).json())["status"] in ("queued",
                                                                                "processing"):
        assert time.monotonic() < deadline, doc
        time.sleep(0.5)
    assert doc["record"] is not None


def test_it_takes_one_document_and_checks_it_like_an_upload(api_keys: dict[str, str]) -> None:
    client = TestClient(app, headers=headers(api_keys, "uploader"))
    reader = TestClient(app, headers=headers(api_keys, "analyst"))
    assert reader.post("/v1/extract", files={
        "file": ("r.txt", _receipt(), "text/plain")}).status_code == 403
    refused = client.post("/v1/extract", files={"file": ("tool.exe", b"MZ\x90\x00", "x/y")})
    assert refused.status_code == 415 and "Supported types" in refused.json()["detail"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", _receipt())
        z.writestr("b.txt", _receipt())
    two = client.post("/v1/extract", files={"file": ("two.zip", archive.getvalue(),
                                                     "application/zip")})
    assert two.status_code == 422 and "One document per call" in two.json()["detail"]
    too_long = client.post("/v1/extract", files={"file": ("r.txt", _receipt(), "text/plain")},
                           data={"wait_s": "100000"})
    assert too_long.status_code == 422
