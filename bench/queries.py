"""Query timings on generated records: the analytics views, the API and exports, each beside
a reference written straight against Postgres.

    .venv/bin/python -m bench.queries                    # 100,000 receipts + 20,000 contracts
    .venv/bin/python -m bench.queries --records 20000
    .venv/bin/python -m bench.queries --quick            # 5,000 receipts, fewer repeats

Drops and recreates the database `docket_bench` (same server as DOCKET_DATABASE_URL), migrates
it, fills it with bench.records_generator (COPY) and runs VACUUM ANALYZE. Then, median of a
few runs after one warm-up, ours beside the reference (ratio = ours / reference):
- the README's example queries through the analytics views vs the same queries on the tables;
- the API's list (filters + sort + page, FastAPI TestClient, admin key) vs the raw SQL of the
  same page and count; full-text search the same way, and the GIN index vs a text scan;
- CSV and Parquet export of every receipt through the API vs Postgres
  `COPY (SELECT ...) TO STDOUT (FORMAT csv)` of the same rows.
Last line: one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import psycopg

from bench.records_generator import generate
from pipeline.settings import get_settings
from pipeline.storage.db import create_database_if_missing, migrate

DB_NAME = "docket_bench"

# The README's examples, as an analyst writes them (search_path analytics) and the same
# question asked of the base tables.
EXAMPLES: list[tuple[str, str, str]] = [
    ("spend by merchant per month",
     """SELECT merchant_name, month, currency, receipts, total
        FROM analytics.spend_by_merchant_month
        WHERE month >= date '2025-01-01' ORDER BY month, total DESC""",
     """SELECT merchant_name, date_trunc('month', date)::date AS month, currency,
               count(*) AS receipts, sum(total) AS total
        FROM receipts WHERE date IS NOT NULL AND date >= date '2025-01-01'
        GROUP BY merchant_name, date_trunc('month', date), currency
        ORDER BY month, total DESC"""),
    ("contracts by jurisdiction",
     """SELECT jurisdiction, count(*) AS contracts, min(effective_date) AS first,
               max(effective_date) AS last
        FROM analytics.contracts GROUP BY jurisdiction ORDER BY contracts DESC""",
     """SELECT jurisdiction, count(*) AS contracts, min(effective_date) AS first,
               max(effective_date) AS last
        FROM contracts GROUP BY jurisdiction ORDER BY contracts DESC"""),
    ("documents awaiting review",
     """SELECT document_id, filename, document_type, reason, min_confidence, waiting_since
        FROM analytics.review_queue ORDER BY waiting_since""",
     """SELECT d.id AS document_id, d.filename, d.document_type, d.error AS reason,
               min(f.confidence) FILTER (WHERE f.value IS NOT NULL) AS min_confidence,
               d.updated_at AS waiting_since
        FROM documents d
        JOIN extraction_runs r ON r.id = (SELECT max(id) FROM extraction_runs
                                          WHERE document_id = d.id)
        LEFT JOIN extracted_fields f ON f.run_id = r.id
        WHERE d.status = 'needs_review'
        GROUP BY d.id ORDER BY d.updated_at"""),
]

LIST_PARAMS = {"currency": "MYR", "date_from": "2025-01-01", "date_to": "2025-12-31",
               "min_total": "50", "sort": "-total", "limit": "50", "offset": "200"}
LIST_SQL = """
    SELECT r.document_id, d.filename, d.status, d.created_at AS uploaded_at, r.merchant_name,
           r.merchant_address, r.date, r.date_text, r.currency, r.subtotal, r.tax, r.total,
           r.payment_method,
           (SELECT count(*) FROM receipt_items i WHERE i.document_id = r.document_id)
               AS item_count, run.adapter, run.source = 'review' AS reviewed
    FROM receipts r JOIN documents d ON d.id = r.document_id
    JOIN extraction_runs run ON run.id = r.run_id
    WHERE r.currency = 'MYR' AND r.date BETWEEN '2025-01-01' AND '2025-12-31'
      AND r.total >= 50
    ORDER BY r.total DESC NULLS LAST, r.document_id LIMIT 50 OFFSET 200"""
LIST_COUNT = """SELECT count(*) FROM receipts WHERE currency = 'MYR'
                AND date BETWEEN '2025-01-01' AND '2025-12-31' AND total >= 50"""
SEARCH = "croissant espresso"
SEARCH_SQL = """
    SELECT r.document_id, r.merchant_name, r.date, r.total FROM receipts r
    JOIN documents d ON d.id = r.document_id
    WHERE d.text_search @@ websearch_to_tsquery('simple', %(q)s)
    ORDER BY r.date DESC NULLS LAST, r.document_id LIMIT 50"""
SEARCH_COUNT = """SELECT count(*) FROM receipts r JOIN documents d ON d.id = r.document_id
                  WHERE d.text_search @@ websearch_to_tsquery('simple', %(q)s)"""
SCAN_COUNT = """SELECT count(*) FROM receipts r JOIN documents d ON d.id = r.document_id
                WHERE d.text ILIKE '%%croissant%%' AND d.text ILIKE '%%espresso%%'"""
COPY_RECEIPTS = """COPY (SELECT * FROM analytics.receipts
                   ORDER BY date DESC NULLS LAST, document_id) TO STDOUT (FORMAT csv, HEADER)"""


def median_ms(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """One warm-up call, then the median of `repeats` timed calls; and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def fetch_all(conn: psycopg.Connection[Any], query: str) -> list[Any]:
    return conn.execute(query).fetchall()


def bench_url() -> str:
    """DOCKET_DATABASE_URL with the bench database's name (a URL: Alembic needs one)."""
    return urlsplit(get_settings().database_url)._replace(path="/" + DB_NAME).geturl()


def prepare(url: str, receipts: int, contracts: int) -> dict[str, float]:
    """A fresh, migrated, filled and analysed bench database; seconds per step."""
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    create_database_if_missing(url)
    migrate(url)
    started = time.perf_counter()
    generate(url, receipts=receipts, contracts=contracts, seed=2026)
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"generate_s": generate_s, "vacuum_analyze_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="receipts to generate")
    parser.add_argument("--quick", action="store_true", help="5,000 receipts, 3 repeats")
    args = parser.parse_args()
    receipts = 5_000 if args.quick else args.records
    contracts = receipts // 5
    repeats = 3 if args.quick else 5
    url = bench_url()
    steps = prepare(url, receipts, contracts)
    print(f"{DB_NAME}: {receipts} receipts + {contracts} contracts generated and copied in "
          f"{steps['generate_s']:.1f} s; VACUUM ANALYZE {steps['vacuum_analyze_s']:.1f} s")

    os.environ["DOCKET_DATABASE_URL"] = url  # the API reads the bench database
    get_settings.cache_clear()
    from fastapi.testclient import TestClient

    from pipeline.api import app
    from pipeline.storage.keys import create_key

    results: dict[str, dict[str, float]] = {}
    print(f"{'median of ' + str(repeats):42} {'ours ms':>9} {'ref ms':>9} {'ratio':>6} "
          f"{'rows':>7}  reference")

    def show(key: str, name: str, ours: float, ref: float, rows: int, reference: str) -> None:
        results[key] = {"ms": round(ours, 1), "reference_ms": round(ref, 1),
                         "ratio": round(ours / ref, 2)}
        print(f"{name:42} {ours:>9.1f} {ref:>9.1f} {ours / ref:>6.2f} {rows:>7}  {reference}")

    with psycopg.connect(url, autocommit=True) as conn:
        secret = create_key(conn, "bench", "admin")[1]
        for name, view_sql, table_sql in EXAMPLES:
            ours, rows = median_ms(partial(fetch_all, conn, view_sql), repeats)
            ref, ref_rows = median_ms(partial(fetch_all, conn, table_sql), repeats)
            assert len(rows) == len(ref_rows), (name, len(rows), len(ref_rows))
            show("view " + name, f"view: {name}", ours, ref, len(rows), "same query on the tables")

        client = TestClient(app)
        headers = {"X-API-Key": secret}

        def api(path: str, params: dict[str, str]) -> Any:
            response = client.get(path, params=params, headers=headers)
            response.raise_for_status()
            return response

        def raw(sql: str, count_sql: str, params: dict[str, str] | None = None) -> Any:
            return conn.execute(sql, params).fetchall(), conn.execute(count_sql,
                                                                      params).fetchone()

        ours, page = median_ms(lambda: api("/v1/records/receipt", LIST_PARAMS).json(), repeats)
        ref, (ref_rows, ref_count) = median_ms(lambda: raw(LIST_SQL, LIST_COUNT), repeats)
        assert page["total"] == ref_count[0] and len(page["items"]) == len(ref_rows)
        assert [r["document_id"] for r in page["items"]] == [str(r[0]) for r in ref_rows]
        show("api_list", "API list: 4 filters, sort -total, page 5", ours, ref, page["total"],
             "raw SQL of the page + count")

        params = {"q": SEARCH, "sort": "-date", "limit": "50"}
        ours, page = median_ms(lambda: api("/v1/records/receipt", params).json(), repeats)
        ref, (ref_rows, ref_count) = median_ms(
            lambda: raw(SEARCH_SQL, SEARCH_COUNT, {"q": SEARCH}), repeats)
        assert page["total"] == ref_count[0]
        assert [r["document_id"] for r in page["items"]] == [str(r[0]) for r in ref_rows]
        show("api_full_text", f"API full-text q='{SEARCH}'", ours, ref, page["total"],
             "raw SQL, same tsquery")
        gin, _ = median_ms(lambda: conn.execute(SEARCH_COUNT, {"q": SEARCH}).fetchone(),
                           repeats)
        scan, scan_count = median_ms(lambda: conn.execute(SCAN_COUNT).fetchone(), repeats)
        show("gin_vs_scan", "full-text count: GIN tsvector", gin, scan, scan_count[0],
             "ILIKE scan of text")

        def copy_csv() -> int:
            size = 0
            with conn.cursor() as cur, cur.copy(COPY_RECEIPTS) as copy:
                for block in copy:
                    size += len(block)
            return size

        def export(fmt: str) -> int:
            with client.stream("GET", "/v1/records/receipt/export",
                               params={"format": fmt}, headers=headers) as response:
                response.raise_for_status()
                return sum(len(b) for b in response.iter_bytes())

        export_repeats = max(repeats - 2, 1)
        ref, copy_bytes = median_ms(copy_csv, export_repeats)
        sizes = {}
        for fmt in ("csv", "parquet"):
            ours, sizes[fmt] = median_ms(partial(export, fmt), export_repeats)
            show(f"export_{fmt}", f"export all receipts: {fmt} ({sizes[fmt] / 1e6:.1f} MB)",
                 ours, ref, receipts, f"COPY … TO STDOUT csv ({copy_bytes / 1e6:.1f} MB)")
            results[f"export_{fmt}"]["rows_per_s"] = round(receipts / (ours / 1000))

    print(json.dumps({"receipts": receipts, "contracts": contracts, "repeats": repeats,
                      "generate_s": round(steps["generate_s"], 1),
                      **{k.replace(" ", "_"): v for k, v in results.items()}}))


if __name__ == "__main__":
    main()
