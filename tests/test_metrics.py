"""/metrics through the real app, Postgres and Redis: requests by route and status, uploads by
outcome, documents by status and type, the queue's depth."""

from __future__ import annotations

import json
import re
import uuid

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from pipeline.api import app
from tests.conftest import ROOT, headers


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
    dashboard = json.loads((ROOT / "pipeline" / "api" / "metrics_dashboard.json").read_text())
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"\b(docket_\w+|http_\w+)", target["expr"])}
    assert asked and asked <= served, asked - served
