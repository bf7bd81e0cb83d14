"""/metrics through the real app, Postgres and Redis: requests by route and status, uploads by
outcome, documents by status and type, the queue's depth."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid

import httpx
import redis
from celery import Celery
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from pipeline import worker_metrics
from pipeline.api import app
from pipeline.queue import PROCESS_TASK
from pipeline.storage import documents
from pipeline.storage.db import connect
from tests.conftest import ROOT, headers, start_worker, stop_worker


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_uploads_documents_and_the_queue(
    api_keys: dict[str, str], broker: str,
) -> None:
    client = TestClient(app, headers=headers(api_keys, "uploader"))
    before = _samples(client)
    body = f"SHOP {uuid.uuid4()}\nTOTAL 1.00\n".encode()
    files = [("files", ("a.txt", body, "text/plain")), ("files", ("b.txt", body, "text/plain")),
             ("files", ("c.exe", b"MZ\x90\x00" + body, "application/octet-stream"))]
    assert client.post("/v1/documents", files=files).status_code == 202
    after = _samples(client)
    for outcome, added in (("stored", 1), ("duplicate", 1), ("refused", 1)):
        assert (_value(after, "docket_uploads_total", outcome=outcome)
                - _value(before, "docket_uploads_total", outcome=outcome)) == added, outcome
    assert _value(after, "http_requests_total", handler="/v1/documents", method="POST",
                  status="2xx") >= 1
    assert _value(after, "docket_documents", status="failed", document_type="") >= 1
    assert (_value(after, "docket_documents", status="queued", document_type="")
            + _value(after, "docket_documents", status="processing", document_type="")) >= 1
    assert ("docket_queue_depth", ()) in after


def test_the_grafana_dashboard_asks_only_for_metrics_docket_serves(
    api_keys: dict[str, str],
) -> None:
    client = TestClient(app, headers=headers(api_keys, "uploader"))
    client.get("/v1/documents")  # one request, so the request metrics have samples
    served = {name for name, _ in _samples(client)}
    served |= {family.name + suffix for family in text_string_to_metric_families(  # no samples
        client.get("/metrics").text) for suffix in ("", "_total")}  # yet: a fresh database
    for metric in (worker_metrics.DOCUMENTS, worker_metrics.STAGE_SECONDS,  # workers serve these
                   worker_metrics.DECODE_TOKENS_PER_S, worker_metrics.RETRIES,
                   worker_metrics.REDELIVERIES, worker_metrics.RSS_BYTES):
        served |= {family.name + suffix for family in metric.describe()
                   for suffix in ("", "_total", "_bucket", "_count", "_sum")}
    dashboard = json.loads((ROOT / "pipeline" / "api" / "metrics_dashboard.json").read_text())
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"\b(docket_\w+|http_\w+)", target["expr"])}
    assert asked and asked <= served, asked - served


WORKER_BROKER = "redis://127.0.0.1:6379/7"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_worker_serves_its_pool_processes_metrics(database: str) -> None:
    """A real worker (its own broker database, so the session worker takes nothing) processes
    one receipt; its main process serves what the pool process counted."""
    port = _free_port()
    redis.Redis.from_url(WORKER_BROKER).flushdb()
    proc = start_worker(ROOT / "test-artifacts" / "metrics-worker.log", {
        "DOCKET_BROKER_URL": WORKER_BROKER, "DOCKET_SWEEP_INTERVAL_S": "0",
        "DOCKET_WORKER_METRICS_PORT": str(port)})
    try:
        with connect(database) as conn:
            stored = documents.add_document(
                conn, documents.create_batch(conn, "test"), "metrics.txt",
                f"SHOP {uuid.uuid4()}\nTOTAL 1.00\n".encode(), "receipt")
        Celery(broker=WORKER_BROKER).send_task(PROCESS_TASK, args=[str(stored.document_id)])
        deadline = time.monotonic() + 240
        while True:
            with connect(database) as conn:
                doc = documents.get_document(conn, stored.document_id)
            assert doc is not None
            if doc["status"] not in ("queued", "processing"):
                break
            assert time.monotonic() < deadline, doc
            time.sleep(0.3)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        stop_worker(proc)
        redis.Redis.from_url(WORKER_BROKER).flushdb()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert _value(samples, "docket_worker_documents_total", status=doc["status"],
                  document_type="receipt") == 1
    for stage in ("convert", "classify", "extract", "store"):
        assert _value(samples, "docket_stage_seconds_count", stage=stage) == 1, stage
    assert _value(samples, "docket_decode_tokens_per_second_count") == 1
    assert any(name == "docket_worker_peak_rss_bytes" and value > 100e6
               for (name, _), value in samples.items())
