"""The analysts' query API, exports and CLI on generated records, checked against Python.

The records come from bench.records_generator into a database of this module's own (so other
tests' documents never change the expected answers); every expectation is computed in Python
from what the generator wrote.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from bench.records_generator import Generated, generate
from tests.conftest import ROOT, TEST_DB

DB_NAME = f"{TEST_DB}_records"
DB_URL = f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"
RECEIPTS, CONTRACTS = 300, 60


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Generated, dict[str, str]]]:
    """A migrated database of its own with generated records and a key per role; the API
    and the CLI are pointed at it for this module only."""
    from pipeline.settings import get_settings
    from pipeline.storage.db import connect, migrate
    from pipeline.storage.keys import ROLES, create_key

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB_NAME}")
    migrate(DB_URL)
    data = generate(DB_URL, receipts=RECEIPTS, contracts=CONTRACTS, seed=11, batches=3)
    with connect(DB_URL) as conn:
        keys = {role: create_key(conn, f"test-{role}", role)[1] for role in ROLES}
    previous = os.environ["DOCKET_DATABASE_URL"]
    os.environ["DOCKET_DATABASE_URL"] = DB_URL
    get_settings.cache_clear()
    yield data, keys
    os.environ["DOCKET_DATABASE_URL"] = previous
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def client(seeded: tuple[Generated, dict[str, str]]) -> TestClient:
    from pipeline.api import app

    return TestClient(app)


def key(seeded: tuple[Generated, dict[str, str]], role: str = "analyst") -> dict[str, str]:
    return {"X-API-Key": seeded[1][role]}


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {str(r["document_id"]) for r in rows}


def fetch_all(client: TestClient, headers: dict[str, str], doc_type: str,
              params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    response = client.get(f"/v1/records/{doc_type}", params={**params, "limit": 1000},
                          headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"], body["total"]


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


RECEIPT_FILTERS: list[tuple[dict[str, Any], Any]] = [
    ({"date_from": "2025-06-01", "date_to": "2025-08-31"},
     lambda r: r["date"] is not None and dt.date(2025, 6, 1) <= r["date"] <= dt.date(2025, 8, 31)),
    ({"name": "tesco"}, lambda r: "tesco" in r["merchant_name"].lower()),
    ({"name": "Kedai Buku"}, lambda r: "kedai buku" in r["merchant_name"].lower()),
    ({"min_total": "100", "max_total": "250.50"},
     lambda r: Decimal("100") <= r["total"] <= Decimal("250.50")),
    ({"currency": "eur"}, lambda r: r["currency"] == "EUR"),
    ({"status": "needs_review"}, lambda r: r["status"] == "needs_review"),
    ({"q": "croissant"}, lambda r: "croissant" in words(r["text"])),
    ({"q": "croissant latte"}, lambda r: {"croissant", "latte"} <= words(r["text"])),
    ({"currency": "MYR", "min_total": "200", "status": "done", "date_from": "2025-01-01"},
     lambda r: r["currency"] == "MYR" and r["total"] >= 200 and r["status"] == "done"
     and r["date"] is not None and r["date"] >= dt.date(2025, 1, 1)),
]


@pytest.mark.parametrize(("params", "keep"), RECEIPT_FILTERS,
                         ids=[",".join(p) for p, _ in RECEIPT_FILTERS])
def test_receipt_filters_return_exactly_the_matching_rows(
    client: TestClient, seeded: tuple[Generated, dict[str, str]], params: dict[str, Any],
    keep: Any,
) -> None:
    data, _ = seeded
    expected = {str(r["document_id"]) for r in data.receipts if keep(r)}
    assert expected, "the generated data should have matches for every filter"
    assert len(expected) < RECEIPTS, "the filter should leave some receipts out"
    rows, total = fetch_all(client, key(seeded), "receipt", params)
    assert ids(rows) == expected
    assert total == len(expected)


def test_batch_filter(client: TestClient, seeded: tuple[Generated, dict[str, str]]) -> None:
    data, _ = seeded
    batch = data.batch_ids[1]
    for doc_type, records in (("receipt", data.receipts), ("contract", data.contracts)):
        expected = {str(r["document_id"]) for r in records if r["batch_id"] == batch}
        rows, total = fetch_all(client, key(seeded), doc_type, {"batch_id": str(batch)})
        assert ids(rows) == expected and total == len(expected) > 0


def test_contract_filters(client: TestClient, seeded: tuple[Generated, dict[str, str]]) -> None:
    data, _ = seeded
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"name": "acme"}, lambda c: any("acme" in p["name"].lower() for p in c["parties"])),
        ({"date_from": "2025-11-01"},
         lambda c: c["effective_date"] is not None
         and c["effective_date"] >= dt.date(2025, 11, 1)),
        ({"status": "done", "name": "ltd"},
         lambda c: c["status"] == "done" and any("ltd" in p["name"].lower()
                                                 for p in c["parties"])),
    ]
    for params, keep in cases:
        expected = {str(c["document_id"]) for c in data.contracts if keep(c)}
        rows, total = fetch_all(client, key(seeded), "contract", params)
        assert expected and ids(rows) == expected and total == len(expected), params
    by_id = {str(c["document_id"]): c for c in data.contracts}
    rows, _ = fetch_all(client, key(seeded), "contract", {})
    for row in rows[:5]:
        assert row["parties"] == [p["name"] for p in by_id[row["document_id"]]["parties"]]


def test_receipt_only_filters_are_refused_for_contracts(
    client: TestClient, seeded: tuple[Generated, dict[str, str]],
) -> None:
    response = client.get("/v1/records/contract", params={"min_total": "5"},
                          headers=key(seeded))
    assert response.status_code == 422 and "receipts only" in response.json()["detail"]


def _sort_key(sort: str) -> Any:
    column = sort.lstrip("-")
    descending = sort.startswith("-")

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        value = r[column]
        if value is None:
            return (1, 0, r["document_id"])
        if descending:
            value = -value if isinstance(value, Decimal) else -value.toordinal()
        elif isinstance(value, dt.date):
            value = value.toordinal()
        return (0, value, r["document_id"])

    return key


@pytest.mark.parametrize("sort", ["-total", "date", "-date", "merchant_name", "currency"])
def test_sort_and_paging_are_stable_and_complete(
    client: TestClient, seeded: tuple[Generated, dict[str, str]], sort: str,
) -> None:
    data, _ = seeded
    pages: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        response = client.get("/v1/records/receipt",
                              params={"sort": sort, "limit": 37, "offset": offset},
                              headers=key(seeded))
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == RECEIPTS and len(body["items"]) <= 37
        pages += body["items"]
        offset = body["next_offset"]
    assert len(pages) == RECEIPTS
    assert ids(pages) == {str(r["document_id"]) for r in data.receipts}
    if sort in ("-total", "date", "-date"):
        expected = sorted(data.receipts, key=_sort_key(sort))
        assert [p["document_id"] for p in pages] == [str(r["document_id"]) for r in expected]
    again = client.get("/v1/records/receipt", params={"sort": sort, "limit": 37, "offset": 74},
                       headers=key(seeded)).json()["items"]
    assert again == pages[74:111]


def test_bad_sort_and_unknown_type_say_what_is_allowed(
    client: TestClient, seeded: tuple[Generated, dict[str, str]],
) -> None:
    response = client.get("/v1/records/receipt", params={"sort": "-password"},
                          headers=key(seeded))
    assert response.status_code == 422
    assert "merchant_name" in response.json()["detail"] and "total" in response.json()["detail"]
    response = client.get("/v1/records/memorandum", headers=key(seeded))
    assert response.status_code == 404
    assert "receipt" in response.json()["detail"] and "contract" in response.json()["detail"]
    response = client.get("/v1/records/receipt", params={"limit": 5000}, headers=key(seeded))
    assert response.status_code == 422


def test_one_record_has_children_and_fields_with_confidence(
    client: TestClient, seeded: tuple[Generated, dict[str, str]],
) -> None:
    data, _ = seeded
    receipt = next(r for r in data.receipts if len(r["items"]) >= 3)
    response = client.get(f"/v1/records/receipt/{receipt['document_id']}", headers=key(seeded))
    assert response.status_code == 200
    body = response.json()
    assert body["record"]["merchant_name"] == receipt["merchant_name"]
    assert Decimal(body["record"]["total"]) == receipt["total"]
    assert [Decimal(c["amount"]) for c in body["children"]] == [
        i["amount"] for i in receipt["items"]]
    fields = {f["path"]: f for f in body["fields"]}
    assert fields["total"]["value"] == str(receipt["total"])
    assert 0 <= fields["total"]["confidence"] <= 1
    start, end = fields["total"]["char_start"], fields["total"]["char_end"]
    assert receipt["text"][start:end] == str(receipt["total"])
    assert body["run"]["id"] == receipt["run_id"]

    contract = data.contracts[0]
    body = client.get(f"/v1/records/contract/{contract['document_id']}",
                      headers=key(seeded)).json()
    assert [p["name"] for p in body["children"]] == [p["name"] for p in contract["parties"]]
    assert any(f["path"] == "parties[0].name" for f in body["fields"])

    missing = client.get(f"/v1/records/receipt/{contract['document_id']}", headers=key(seeded))
    assert missing.status_code == 404 and "No receipt record" in missing.json()["detail"]
    assert client.get(f"/v1/records/receipt/{uuid.uuid4()}",
                      headers=key(seeded)).status_code == 404


def test_csv_export_parses_back(client: TestClient,
                                seeded: tuple[Generated, dict[str, str]]) -> None:
    data, _ = seeded
    response = client.get("/v1/records/receipt/export", params={"format": "csv"},
                          headers=key(seeded))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == RECEIPTS
    by_id = {str(r["document_id"]): r for r in data.receipts}
    for row in rows:
        receipt = by_id[row["document_id"]]
        assert Decimal(row["total"]) == receipt["total"]
        assert row["merchant_name"] == receipt["merchant_name"]
        assert row["date"] == (receipt["date"].isoformat() if receipt["date"] else "")
        assert int(row["item_count"]) == len(receipt["items"])

    eur = client.get("/v1/records/receipt/export",
                     params={"format": "csv", "currency": "EUR", "sort": "-total"},
                     headers=key(seeded))
    eur_rows = list(csv.DictReader(io.StringIO(eur.text)))
    expected = sorted((r for r in data.receipts if r["currency"] == "EUR"),
                      key=_sort_key("-total"))
    assert [r["document_id"] for r in eur_rows] == [str(r["document_id"]) for r in expected]


def test_parquet_export_reads_back_typed(
    client: TestClient, seeded: tuple[Generated, dict[str, str]],
) -> None:
    data, _ = seeded
    response = client.get("/v1/records/receipt/export",
                          params={"format": "parquet", "status": "needs_review"},
                          headers=key(seeded))
    assert response.status_code == 200
    table = pq.read_table(io.BytesIO(response.content))
    expected = {str(r["document_id"]): r for r in data.receipts if r["status"] == "needs_review"}
    assert table.num_rows == len(expected)
    assert table.schema.field("total").type == pa.decimal128(14, 2)
    assert table.schema.field("date").type == pa.date32()
    assert table.schema.field("uploaded_at").type == pa.timestamp("us", tz="UTC")
    for row in table.to_pylist():
        receipt = expected[row["document_id"]]
        assert row["total"] == receipt["total"] and row["date"] == receipt["date"]

    contracts = pq.read_table(io.BytesIO(client.get(
        "/v1/records/contract/export", params={"format": "parquet"}, headers=key(seeded),
    ).content))
    assert contracts.schema.field("parties").type == pa.list_(pa.string())
    by_id = {str(c["document_id"]): c for c in data.contracts}
    for row in contracts.to_pylist():
        assert row["parties"] == [p["name"] for p in by_id[row["document_id"]]["parties"]]


def test_parquet_writer_writes_a_row_group_per_chunk() -> None:
    from pipeline.analytics.exports import write_parquet
    from pipeline.storage.analytics import Column

    columns = [Column("id", "uuid"), Column("amount", "numeric", 14, 2), Column("d", "date")]
    chunks = [[(uuid.uuid4(), Decimal(f"{n}.25"), dt.date(2026, 1, 1 + n)) for n in range(k)]
              for k in (3, 5, 2)]
    parts = list(write_parquet(columns, chunks))
    assert len(parts) >= 3, "bytes should come out chunk by chunk, not at the end"
    file = pq.ParquetFile(io.BytesIO(b"".join(parts)))
    assert file.metadata.num_row_groups == 3 and file.metadata.num_rows == 10
    assert file.read().column("amount").to_pylist()[4] == Decimal("1.25")


def test_spend_aggregate_equals_python_sums(
    client: TestClient, seeded: tuple[Generated, dict[str, str]],
) -> None:
    data, _ = seeded
    cases: list[tuple[dict[str, Any], Any]] = [
        ({}, lambda r: True),
        ({"currency": "MYR", "name": "mart"},
         lambda r: r["currency"] == "MYR" and "mart" in r["merchant_name"].lower()),
    ]
    for params, keep in cases:
        expected: dict[tuple[str, str, str], list[Decimal]] = defaultdict(list)
        for r in data.receipts:
            if r["date"] is not None and keep(r):
                month = r["date"].replace(day=1).isoformat()
                expected[(r["merchant_name"], month, r["currency"])].append(r["total"])
        response = client.get("/v1/aggregates/receipts/spend", params={**params, "limit": 1000},
                              headers=key(seeded))
        assert response.status_code == 200
        body = response.json()
        got = {(g["merchant_name"], g["month"], g["currency"]): (g["receipts"],
                                                                 Decimal(g["total"]))
               for g in body["items"]}
        assert got == {k: (len(v), sum(v)) for k, v in expected.items()}
        assert body["total"] == len(expected)
        months = [g["month"] for g in body["items"]]
        assert months == sorted(months)


@pytest.mark.parametrize("path", [
    "/v1/records/receipt", "/v1/records/receipt/export", "/v1/aggregates/receipts/spend",
    "/v1/records/receipt/00000000-0000-4000-8000-000000000000",
])
def test_only_analysts_and_admins_may_query(
    client: TestClient, seeded: tuple[Generated, dict[str, str]], path: str,
) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers=key(seeded, "uploader")).status_code == 403
    assert client.get(path, headers=key(seeded, "reviewer")).status_code == 403
    for role in ("analyst", "admin"):
        assert client.get(path, headers=key(seeded, role)).status_code in (200, 404)


def test_openapi_documents_the_routes(client: TestClient,
                                      seeded: tuple[Generated, dict[str, str]]) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/v1/records/{doc_type}", "/v1/records/{doc_type}/export",
                 "/v1/records/{doc_type}/{document_id}", "/v1/aggregates/receipts/spend"):
        assert "get" in paths[path], path
    params = {p["name"] for p in paths["/v1/records/{doc_type}"]["get"]["parameters"]}
    assert {"date_from", "date_to", "name", "min_total", "currency", "status", "batch_id", "q",
            "sort", "limit", "offset"} <= params
    assert "format" in {p["name"] for p in paths["/v1/records/{doc_type}/export"]["get"]
                        ["parameters"]}
    assert {"ReceiptRow", "ContractRow", "SpendRow"} <= set(schema["components"]["schemas"])


def docket(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKET_DATABASE_URL": DB_URL}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_docket_query_reads_views(seeded: tuple[Generated, dict[str, str]]) -> None:
    data, _ = seeded
    receipt = data.receipts[5]
    result = docket("query", "SELECT merchant_name, total FROM receipts "
                    f"WHERE document_id = '{receipt['document_id']}'", "--csv")
    assert result.returncode == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["merchant_name", "total"], [receipt["merchant_name"], str(receipt["total"])]]
    result = docket("query", "SELECT document_id FROM review_queue", "--max-rows", "3")
    assert result.returncode == 0, result.stderr
    waiting = {str(r["document_id"]) for r in data.receipts + data.contracts
               if r["status"] == "needs_review"}
    shown = set(re.findall(r"[0-9a-f]{8}-[0-9a-f-]{27}", result.stdout))
    assert len(shown) == 3 and shown <= waiting


@pytest.mark.parametrize("sql_text", [
    "DELETE FROM receipts", "CREATE TABLE notes (id int)", "SELECT * FROM public.blobs",
    "UPDATE public.receipts SET total = 0",
])
def test_docket_query_refuses_writes_and_tables(seeded: tuple[Generated, dict[str, str]],
                                                sql_text: str) -> None:
    result = docket("query", sql_text)
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "read-only" in message and "analytics views" in message
    with psycopg.connect(DB_URL) as conn:
        row = conn.execute("SELECT count(*), sum(total) FROM receipts").fetchone()
    assert row is not None and row[0] == RECEIPTS
    assert row[1] == sum(r["total"] for r in seeded[0].receipts)


def test_docket_export_writes_matching_rows(seeded: tuple[Generated, dict[str, str]],
                                           tmp_path: Path) -> None:
    data, _ = seeded
    out = tmp_path / "usd.csv"
    result = docket("export", "--type", "receipt", "--format", "csv", "--out", str(out),
                    "--currency", "USD", "--date-from", "2025-03-01")
    assert result.returncode == 0, result.stderr
    expected = {str(r["document_id"]): r for r in data.receipts if r["currency"] == "USD"
                and r["date"] is not None and r["date"] >= dt.date(2025, 3, 1)}
    rows = list(csv.DictReader(out.open()))
    assert {r["document_id"] for r in rows} == set(expected) and len(rows) == len(expected)
    assert all(Decimal(r["total"]) == expected[r["document_id"]]["total"] for r in rows)

    out = tmp_path / "contracts.parquet"
    result = docket("export", "--type", "contract", "--format", "parquet", "--out", str(out),
                    "--name", "wayne")
    assert result.returncode == 0, result.stderr
    names = pq.read_table(out).column("document_id").to_pylist()
    assert set(names) == {str(c["document_id"]) for c in data.contracts
                          if any("wayne" in p["name"].lower() for p in c["parties"])}

    result = docket("export", "--type", "receipt", "--out", str(tmp_path / "x.csv"),
                    "--sort", "secret")
    assert result.returncode == 2 and "sortable columns" in result.stderr
