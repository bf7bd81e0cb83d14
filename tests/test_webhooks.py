"""Webhooks on real parts: the API, a real extraction worker, a real webhook worker process and
a real local receiver (an HTTP server) that fails the first attempts or is down at first.

Retries are a second apart here (DOCKET_WEBHOOK_RETRY_SCHEDULE_S in conftest); 127.0.0.1 is
allow-listed, as an admin would list an internal receiver.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pipeline.api import app
from pipeline.settings import Settings
from pipeline.webhooks import signing, targets
from tests.conftest import ROOT, headers, stop_worker


class Receiver:
    """A local webhook receiver: answers 503 to its first `fail_first` requests, then 200;
    keeps every request it got, and whether its signature verified."""

    def __init__(self, fail_first: int = 0, port: int = 0) -> None:
        self.fail_first = fail_first
        self.requests: list[dict[str, Any]] = []
        self.secrets: list[str] = []  # the secrets it trusts (set once the webhook exists)
        self.port = port or _free_port()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get(signing.HEADER, "")
                receiver.requests.append({
                    "event": json.loads(body), "headers": dict(self.headers),
                    "verified": any(signing.verify(s, signature, body)
                                    for s in receiver.secrets),
                })
                failing = len(receiver.requests) <= receiver.fail_first
                self.send_response(503 if failing else 200)
                self.end_headers()
                self.wfile.write(b"busy, try later" if failing else b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/docket"

    def events(self, kind: str) -> dict[str, dict[str, Any]]:
        """Each distinct event of this kind it took (answered 200), by id."""
        taken = self.requests[self.fail_first:]
        return {r["event"]["id"]: r["event"] for r in taken if r["event"]["type"] == kind}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.2)


@pytest.fixture(scope="module")
def webhook_worker(database: str, broker: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real `docket webhooks worker` process."""
    log_path = ROOT / "test-artifacts" / "webhook-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "webhooks", "worker"], cwd=ROOT,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=dict(os.environ))
    _wait(lambda: b"ready." in log_path.read_bytes() or proc.poll() is not None, 60,
          "the webhook worker did not start")
    assert proc.poll() is None, log_path.read_text()[-3000:]
    yield proc
    stop_worker(proc)


def _receipt() -> tuple[str, bytes, str]:
    text = f"CORNER SHOP {uuid.uuid4().hex[:6]}\n2024-05-01\nBREAD 2.50\nTOTAL 2.50\n"
    return ("receipt.txt", text.encode(), "text/plain")


def test_an_uploads_callback_hears_each_document_and_the_batch_through_failures(
    api_keys: dict[str, str], worker: object, webhook_worker: object,
) -> None:
    receiver = Receiver(fail_first=2).start()
    try:
        client = TestClient(app, headers=headers(api_keys, "uploader"))
        junk = b"MZ\x90\x00 not a document " + uuid.uuid4().bytes
        answer = client.post("/v1/documents", data={"callback_url": receiver.url}, files=[
            ("files", _receipt()),
            ("files", ("tool.exe", junk, "application/octet-stream")),
            ("files", ("tool-copy.exe", junk, "application/octet-stream")),  # the same bytes
        ])
        assert answer.status_code == 202, answer.text
        upload = answer.json()
        hook = upload["webhook"]
        assert hook["secret"].startswith("whsec_")
        receiver.secrets.append(hook["secret"])
        # Retries may reorder events: wait for all three, whatever their order.
        _wait(lambda: receiver.events("batch.finished")
              and len(receiver.events("document.finished")) == 2, 300, "events missing")

        documents = receiver.events("document.finished")
        assert {e["document"]["id"] for e in documents.values()} == {
            d["id"] for d in upload["documents"]}
        by_name = {e["document"]["filename"]: e["document"] for e in documents.values()}
        assert by_name["tool.exe"]["status"] == "failed" and by_name["tool.exe"]["reason"]
        assert by_name["receipt.txt"]["status"] in ("done", "needs_review")
        assert by_name["receipt.txt"]["batch_ids"] == [upload["batch_id"]]
        assert by_name["receipt.txt"]["links"]["self"].endswith(
            f"/v1/documents/{by_name['receipt.txt']['id']}")
        [batch] = receiver.events("batch.finished").values()
        assert batch["batch"]["id"] == upload["batch_id"] and batch["batch"]["total"] == 2
        assert all(r["verified"] for r in receiver.requests)
        assert all(r["headers"]["Docket-Delivery"] == r["event"]["id"]
                   for r in receiver.requests)

        time.sleep(1)  # nothing more comes: each event is written once
        assert len(receiver.events("batch.finished")) == 1
        assert len(receiver.events("document.finished")) == 2  # the copy is the same document
        log = client.get(f"/v1/webhooks/{hook['id']}/deliveries")
        assert log.status_code == 200, log.text
        deliveries = log.json()["deliveries"]
        assert len(deliveries) == 3 and all(d["status"] == "delivered" for d in deliveries)
        tries = [a for d in deliveries for a in d["attempt_log"]]
        assert sorted(a["status_code"] for a in tries) == [200, 200, 200, 503, 503]
        assert all(a["error"] == "HTTP 503 Service Unavailable"  # never the answer's body
                   for a in tries if a["status_code"] == 503)
        (ROOT / "test-artifacts" / "webhook-deliveries.json").write_text(log.text)

        other = TestClient(app, headers=headers(api_keys, "reviewer"))
        assert other.get(f"/v1/webhooks/{hook['id']}/deliveries").status_code == 404
        admin = TestClient(app, headers=headers(api_keys, "admin"))
        assert admin.get(f"/v1/webhooks/{hook['id']}/deliveries").status_code == 200

        # An admin's subscription to everything hears a reviewer's save.
        watcher = Receiver().start()
        try:
            created = admin.post("/v1/webhooks", json={
                "url": watcher.url, "scope": "all", "events": ["document.reviewed"]})
            assert created.status_code == 201, created.text
            watcher.secrets.append(created.json()["secret"])
            receipt = by_name["receipt.txt"]["id"]
            saved = other.post(f"/v1/documents/{receipt}/corrections",
                               json={"edits": {"total": "2.50"}})
            assert saved.status_code == 200, saved.text
            _wait(lambda: watcher.events("document.reviewed"), 30, "no document.reviewed")
            [reviewed] = watcher.events("document.reviewed").values()
            assert reviewed["document"]["id"] == receipt
            assert reviewed["document"]["status"] == saved.json()["status"]
            assert all(r["verified"] for r in watcher.requests)
            assert admin.delete(f"/v1/webhooks/{created.json()['id']}").status_code == 204
        finally:
            watcher.stop()
    finally:
        receiver.stop()


def test_a_receiver_that_is_down_loses_no_event_and_one_that_never_answers_ends_failed(
    api_keys: dict[str, str], worker: object, webhook_worker: object,
) -> None:
    client = TestClient(app, headers=headers(api_keys, "uploader"))
    late = Receiver()  # not listening yet: connections are refused
    created = client.post("/v1/webhooks", json={"url": late.url, "events": ["document.finished"]})
    assert created.status_code == 201, created.text
    late.secrets.append(created.json()["secret"])
    dead = client.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{_free_port()}/x"})
    assert dead.status_code == 201
    listed = {s["id"] for s in client.get("/v1/webhooks").json()}
    assert {created.json()["id"], dead.json()["id"]} <= listed

    # A file refused at upload ends `failed` at once: the key's subscriptions hear of it.
    answer = client.post("/v1/documents", files=[
        ("files", ("junk.bin", b"\x7fELF" + os.urandom(64), "application/octet-stream")),
        ("files", _receipt())])
    assert answer.status_code == 202
    junk = next(d["id"] for d in answer.json()["documents"] if d["filename"] == "junk.bin")

    def tried(webhook_id: str, times: int) -> bool:
        log = client.get(f"/v1/webhooks/{webhook_id}/deliveries").json()["deliveries"]
        return any(d["document_id"] == junk and d["attempts"] >= times for d in log)

    _wait(lambda: tried(created.json()["id"], 2), 60, "no failed attempts on the late receiver")
    late.start()
    try:
        _wait(lambda: any(e["document"]["id"] == junk
                          for e in late.events("document.finished").values()), 60,
              "the late receiver never got the event")
        assert all(r["verified"] for r in late.requests)
    finally:
        late.stop()
    _wait(lambda: any(d["status"] == "failed" for d in client.get(
        f"/v1/webhooks/{dead.json()['id']}/deliveries").json()["deliveries"]), 60,
        "the dead receiver's delivery never gave up")
    log = client.get(f"/v1/webhooks/{dead.json()['id']}/deliveries").json()["deliveries"]
    failed = next(d for d in log if d["status"] == "failed")
    assert failed["attempts"] == len(Settings().webhook_retry_schedule_s) + 1
    assert all(a["status_code"] is None and "Connect" in a["error"]
               for a in failed["attempt_log"])
    assert client.delete(f"/v1/webhooks/{dead.json()['id']}").status_code == 204
    assert dead.json()["id"] not in {s["id"] for s in client.get("/v1/webhooks").json()}
    client.delete(f"/v1/webhooks/{created.json()['id']}")


def test_callback_urls_are_checked(api_keys: dict[str, str]) -> None:
    client = TestClient(app, headers=headers(api_keys, "uploader"))
    for url in ("ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x", "not a url",
                "http://127.0.0.1/a\x7fb"):  # a URL httpx refuses is refused here, not later
        answer = client.post("/v1/webhooks", json={"url": url})
        assert answer.status_code == 422, (url, answer.text)
    answer = client.post("/v1/documents", data={"callback_url": "http://10.1.2.3/hook"},
                         files=[("files", _receipt())])
    assert answer.status_code == 422 and "ALLOWED_HOSTS" in answer.json()["detail"]
    assert client.post("/v1/webhooks", json={"url": "http://127.0.0.1/x", "scope": "all"}
                       ).status_code == 403

    public_only = Settings(webhook_allowed_hosts=[])
    for internal in ("http://127.0.0.1:8000/x", "http://169.254.169.254/latest/meta-data",
                     "http://[::1]/x", "http://localhost/x"):
        assert "internal address" in (targets.problem(internal, public_only) or ""), internal
    listed = Settings(webhook_allowed_hosts=["*.example.com", "10.0.0.5"])
    assert targets.problem("https://hooks.example.com/docket", listed) is None
    assert targets.problem("http://10.0.0.5:9000/hook", listed) is None
    assert "not among the hosts" in (targets.problem("https://example.org/", listed) or "")


def test_a_signature_covers_the_body_and_the_time() -> None:
    body = b'{"id":"1","type":"document.finished"}'
    now = int(time.time())
    header = signing.signature("whsec_test", body, now)
    assert signing.verify("whsec_test", header, body)
    assert not signing.verify("whsec_other", header, body)
    assert not signing.verify("whsec_test", header, body + b" ")
    assert not signing.verify("whsec_test", header, body, now=now + signing.TOLERANCE_S + 1)
    assert not signing.verify("whsec_test", "v1=deadbeef", body)
