"""Postgres storage: dedup by content, batches, bytes kept, records replaced not duplicated."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg

from pipeline import doctypes
from pipeline.ingest import Upload, store_uploads
from pipeline.storage import documents, records


def _run(**overrides: Any) -> dict[str, Any]:
    run = {
        "model": "gemma-3-270m", "model_sha256": "x", "adapter": None, "classifier": "hint",
        "classifier_confidence": 1.0, "timings_ms": {"extract": 1.0}, "prompt_tokens": 10,
        "output_tokens": 5, "tokens_per_s": 10.0, "mean_token_prob": 0.9, "finished": True,
        "raw_output": "{}", "valid": True, "violations": [],
    }
    run.update(overrides)
    return run


def test_same_bytes_twice_are_one_document(conn: psycopg.Connection, settings: Any) -> None:
    first = store_uploads(conn, [Upload("a.txt", b"TOTAL 1.00 unique-1")], settings, "test")
    second = store_uploads(conn, [Upload("copy.txt", b"TOTAL 1.00 unique-1")], settings, "test")
    assert first.stored[0].document_id == second.stored[0].document_id
    assert second.stored[0].duplicate and second.to_process == []
    assert first.to_process == [first.stored[0].document_id]
    # The second batch still lists the document, so its counts are complete.
    assert sum(documents.batch_counts(conn, second.batch_id).values()) == 1  # type: ignore[union-attr]


def test_refused_upload_keeps_bytes_and_reason(conn: psycopg.Connection, settings: Any) -> None:
    data = b"MZ\x90\x00 not a document unique-2"
    result = store_uploads(conn, [Upload("tool.exe", data), Upload("ok.txt", b"ok unique-2")],
                           settings, "test")
    refused_id = result.stored[0].document_id
    doc = documents.get_document(conn, refused_id)
    assert doc is not None and doc["status"] == "failed" and doc["error"]
    blob = conn.execute("SELECT data FROM blobs WHERE sha256 = %s", (doc["sha256"],)).fetchone()
    assert blob is not None and bytes(blob["data"]) == data
    assert result.to_process == [result.stored[1].document_id]


def test_claim_skips_finished_documents(conn: psycopg.Connection, settings: Any) -> None:
    result = store_uploads(conn, [Upload("c.txt", b"claim me unique-3")], settings, "test")
    doc_id = result.to_process[0]
    assert documents.claim(conn, doc_id) is not None
    documents.set_status(conn, doc_id, "done")
    assert documents.claim(conn, doc_id) is None  # a redelivered task does nothing


def test_rerun_replaces_the_record(conn: psycopg.Connection, settings: Any) -> None:
    result = store_uploads(conn, [Upload("r.txt", b"receipt unique-4")], settings, "test")
    doc_id = result.to_process[0]
    record = {"merchant_name": "A", "merchant_address": None, "date": "2024-01-02",
              "date_text": "02/01/2024", "currency": "USD", "subtotal": None, "tax": None,
              "total": "3.00", "payment_method": None,
              "items": [{"description": "x", "quantity": "1", "unit_price": "3.00",
                         "amount": "3.00"}]}
    for total in ("3.00", "4.00"):
        with conn.transaction():
            records.save_run(conn, doc_id, doctypes.get("receipt"), _run(),
                             {**record, "total": total})
    rows = conn.execute("SELECT total FROM receipts WHERE document_id = %s", (doc_id,)).fetchall()
    assert [r["total"] for r in rows] == [Decimal("4.00")]
    items = conn.execute("SELECT count(*) AS n FROM receipt_items WHERE document_id = %s",
                         (doc_id,)).fetchone()
    assert items is not None and items["n"] == 1
    runs = conn.execute("SELECT count(*) AS n FROM extraction_runs WHERE document_id = %s",
                        (doc_id,)).fetchone()
    assert runs is not None and runs["n"] == 2  # history kept, record not duplicated


def test_stale_processing_documents_are_found(conn: psycopg.Connection, settings: Any) -> None:
    result = store_uploads(conn, [Upload("s.txt", b"orphan unique-5")], settings, "test")
    doc_id = result.to_process[0]
    assert documents.claim(conn, doc_id) is not None
    assert doc_id not in documents.stale(conn, older_than_s=60)  # a live attempt
    conn.execute("UPDATE documents SET updated_at = now() - interval '2 hours' WHERE id = %s",
                 (doc_id,))
    assert doc_id in documents.stale(conn, older_than_s=60)  # its worker died with it


def test_invoice_and_datasheet_records_reach_their_views(conn: psycopg.Connection,
                                                         settings: Any) -> None:
    """The new types' records land in their typed tables and come back through the records
    query, the child views and the invoice's payables aggregate, as their row models."""
    import json

    from pipeline.doctypes.datasheet import schema as datasheet
    from pipeline.doctypes.invoice import generator
    from pipeline.doctypes.invoice import schema as invoice
    from pipeline.doctypes.invoice.rows import InvoiceItemRow, InvoiceRow, PayablesRow
    from pipeline.storage import analytics

    made = generator.make(900025)
    invoice_record = invoice.to_record(invoice.InvoiceDraft.model_validate(made.labels))
    sheet_record = datasheet.to_record(datasheet.DatasheetDraft.model_validate({
        "product_name": "Arduino® UNO R4 Minima", "model_numbers": ["ABX00080"],
        "manufacturer": "Arduino SRL", "document_revision": "3",
        "document_revision_date": "28/03/2024", "microcontroller": "RA4M1",
        "operating_conditions": [{"parameter": "Operating Temperature", "symbol": "TOP",
                                  "min": "-40", "typ": "25", "max": "85", "unit": "°C"}],
        "absolute_maximum_ratings": [{"parameter": "Input voltage", "symbol": "VIN",
                                      "min": None, "typ": None, "max": "24", "unit": "V"}],
        "specifications": [{"group": "Power", "name": "DC Current per I/O Pin", "value": "8",
                            "unit": "mA"}]}))
    result = store_uploads(conn, [Upload("i.pdf", b"invoice unique-6"),
                                  Upload("d.md", b"datasheet unique-6")], settings, "test")
    invoice_id, sheet_id = result.to_process
    with conn.transaction():
        records.save_run(conn, invoice_id, doctypes.get("invoice"), _run(),
                         json.loads(invoice_record.model_dump_json()))
        records.save_run(conn, sheet_id, doctypes.get("datasheet"), _run(),
                         json.loads(sheet_record.model_dump_json()))
    query = analytics.RecordQuery(name=made.labels["seller_name"], min_total=Decimal("5000"))
    rows, n = analytics.list_records(conn, doctypes.get("invoice"), query)
    row = InvoiceRow.model_validate(next(r for r in rows if r["document_id"] == invoice_id))
    assert row.total == Decimal("5173.32") and row.currency == "EUR" and row.item_count == 3
    found = analytics.get_record(conn, doctypes.get("invoice"), invoice_id)
    assert found is not None
    assert [InvoiceItemRow.model_validate(c).line for c in found["children"]] == [1, 2, 3]
    config = doctypes.get("invoice").query
    assert config is not None
    groups, _ = analytics.aggregate(conn, doctypes.get("invoice"), config.aggregates[0], query)
    assert any(PayablesRow.model_validate(g).total == Decimal("5173.32") for g in groups)

    sheet = analytics.get_record(conn, doctypes.get("datasheet"), sheet_id)
    assert sheet is not None and sheet["record"]["model_numbers"] == ["ABX00080"]
    assert sheet["record"]["condition_count"] == 2 and sheet["children"][0]["value"] == "8"
    kinds = conn.execute("SELECT kind, max FROM analytics.datasheet_conditions "
                         "WHERE document_id = %s ORDER BY kind", (sheet_id,)).fetchall()
    assert [(k["kind"], k["max"]) for k in kinds] == [("absolute_maximum", "24"),
                                                      ("operating", "85")]


def test_a_reviewed_contract_lists_its_clauses_for_analysts(conn: psycopg.Connection,
                                                            settings: Any) -> None:
    """A contract's six clauses land one row each; the contracts view names those present,
    and the parties view their aliases; rows match the row models."""
    import json

    from pipeline.doctypes.contract import schema as contract
    from pipeline.doctypes.contract.rows import ContractPartyRow, ContractRow
    from pipeline.storage import analytics

    draft = contract.ContractDraft.model_validate({
        "title": "SUPPLY AGREEMENT",
        "parties": [{"name": "Harborview Components Corp.", "role": None,
                     "aliases": ["Supplier"]},
                    {"name": "Larkspur Medical Devices, Inc.", "role": None,
                     "aliases": ["Buyer"]}],
        "agreement_date": "January 15, 2024", "effective_date": "January 15, 2024",
        "expiration_date": "perpetual", "term": "three (3) years",
        "renewal_term": "successive 1 year", "renewal_notice": "90 days",
        "jurisdiction": "New York", "termination_notice": None, "signatories": [],
        "clauses": {name: None for name in contract.CLAUSES} | {
            "anti_assignment": "Neither party may assign this Agreement without consent.",
            "cap_on_liability": "In no event shall aggregate liability exceed the fees paid."},
    })
    record = contract.to_record(draft)
    assert contract.check_rules(record) == []
    (document_id,) = store_uploads(conn, [Upload("c.pdf", b"contract unique-7")], settings,
                                   "test").to_process
    with conn.transaction():
        records.save_run(conn, document_id, doctypes.get("contract"), _run(),
                         json.loads(record.model_dump_json()))
    found = analytics.get_record(conn, doctypes.get("contract"), document_id)
    assert found is not None
    row = ContractRow.model_validate(found["record"])
    assert row.clauses_present == ["anti_assignment", "cap_on_liability"]
    assert row.expiration_date is None and row.expiration_date_text == "perpetual"
    assert [ContractPartyRow.model_validate(c).aliases for c in found["children"]] == [
        ["Supplier"], ["Buyer"]]
    clauses = conn.execute("SELECT clause, present, excerpt FROM analytics.contract_clauses "
                           "WHERE document_id = %s ORDER BY position", (document_id,)).fetchall()
    assert [c["clause"] for c in clauses] == list(contract.CLAUSES)
    assert [c["present"] for c in clauses] == [False, True, False, False, False, True]
