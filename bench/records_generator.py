"""Realistic receipts and contracts straight into a Docket database, fast (COPY).

    from bench.records_generator import generate
    data = generate(database_url, receipts=100_000, contracts=20_000, seed=7)

Every row the pipeline would write is there: a tiny blob and a document (with searchable text)
per record, one extraction run, the typed rows, items or parties, per-field evidence with
confidences, and batch membership. The returned `Generated` holds what was written, so tests
compute their expected answers from it in Python.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

MERCHANTS = [
    "Kedai Buku Ali", "Tesco Extra", "Starbucks Coffee", "Guardian Pharmacy", "Aeon Big",
    "Popular Bookstore", "Mr DIY", "Watsons", "Secret Recipe", "Old Town White Coffee",
    "Giant Hypermarket", "Uniqlo", "Ikea", "Shell Station", "Petronas Mesra", "7-Eleven",
    "Family Mart", "Nando's", "Sushi King", "Daiso", "Harvey Norman", "Decathlon",
    "The Coffee Bean", "Village Grocer", "Jaya Grocer", "Mamak Corner", "Bakery Roti Sedap",
    "Hardware Lim & Sons", "Stationery Plus", "Pasar Borong",
]
BRANCHES = ["", " KLCC", " Mid Valley", " Bangsar", " Penang", " Johor Bahru", " Ipoh"]
CITIES = ["Kuala Lumpur", "Petaling Jaya", "George Town", "Johor Bahru", "Ipoh", "Singapore"]
CURRENCIES = ["MYR"] * 6 + ["SGD"] * 2 + ["USD", "EUR"]
PAYMENTS = ["CASH", "VISA", "MASTERCARD", "DEBIT", "E-WALLET", None]
PRODUCTS = [
    "espresso", "latte", "croissant", "notebook", "pencil", "shampoo", "toothpaste", "rice",
    "noodles", "chicken", "batteries", "umbrella", "screwdriver", "paint", "stapler", "towel",
    "sandwich", "mineral water", "green tea", "chocolate", "vitamin c", "plaster", "detergent",
    "light bulb", "extension cord", "socks", "t-shirt", "petrol", "parking", "newspaper",
]
STATUSES = ["done"] * 9 + ["needs_review"]
REVIEW_REASONS = ["total does not match items", "date is in the future",
                  "a value is uncertain (confidence 0.31 < 0.5)"]

TITLES = ["Mutual Non-Disclosure Agreement", "Non-Disclosure Agreement",
          "Master Services Agreement", "Consulting Agreement", "Commercial Lease",
          "Software License Agreement", "Supply Agreement"]
JURISDICTIONS = ["Delaware", "New York", "California", "England and Wales", "Singapore",
                 "Ontario", "Malaysia", None]
COMPANY_A = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay",
             "Soylent", "Cyberdyne", "Tyrell", "Wonka", "Oscorp", "Aperture", "Gringotts"]
COMPANY_B = ["Industries", "Holdings", "Labs", "Systems", "Partners", "Logistics", "Foods",
             "Capital", "Technologies", "Trading"]
SUFFIX = ["Inc.", "LLC", "Ltd", "Sdn. Bhd.", "Pte. Ltd.", "GmbH"]
ROLES = [("Disclosing Party", "Receiving Party"), ("Client", "Consultant"),
         ("Landlord", "Tenant"), ("Licensor", "Licensee"), ("Buyer", "Supplier")]
TERMS = ["1 year", "2 years", "3 years", "5 years", "until terminated", None]
NOTICES = ["30 days", "60 days", "90 days", None]

START = dt.date(2024, 11, 1)
DAYS = 730  # two years of receipts
MODEL = "gemma-3-270m"


@dataclass
class Generated:
    """What was written: typed rows as Python values (tests compute expectations from it)."""

    batch_ids: list[uuid.UUID] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(f"{rng.uniform(low, high):.2f}")


def _receipt(rng: random.Random, n: int) -> dict[str, Any]:
    merchant = rng.choice(MERCHANTS) + rng.choice(BRANCHES)
    items: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 5)):
        quantity = Decimal(rng.choice([1, 1, 1, 2, 3]))
        unit = _money(rng, 0.5, 80)
        items.append({"description": rng.choice(PRODUCTS).upper(), "quantity": quantity,
                      "unit_price": unit, "amount": (quantity * unit).quantize(Decimal("0.01"))})
    subtotal: Decimal = sum((i["amount"] for i in items), Decimal("0.00"))
    tax = (subtotal * Decimal("0.06")).quantize(Decimal("0.01"))
    date = START + dt.timedelta(days=rng.randrange(DAYS)) if rng.random() > 0.03 else None
    status = rng.choice(STATUSES)
    return {
        "document_id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "filename": f"receipt-{n:06d}.jpg", "status": status,
        "error": rng.choice(REVIEW_REASONS) if status == "needs_review" else None,
        "merchant_name": merchant,
        "merchant_address": f"{rng.randint(1, 300)} Jalan {rng.choice(PRODUCTS).title()}, "
                            f"{rng.choice(CITIES)}",
        "date": date, "date_text": date.strftime("%d/%m/%Y") if date else None,
        "currency": rng.choice(CURRENCIES), "subtotal": subtotal, "tax": tax,
        "total": subtotal + tax, "payment_method": rng.choice(PAYMENTS), "items": items,
    }


def _company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)} {rng.choice(SUFFIX)}"


def _contract(rng: random.Random, n: int) -> dict[str, Any]:
    roles = rng.choice(ROLES)
    names = [_company(rng) for _ in range(rng.choice([2, 2, 2, 3]))]
    parties = [{"name": name, "role": roles[min(i, 1)]} for i, name in enumerate(names)]
    date = START + dt.timedelta(days=rng.randrange(DAYS)) if rng.random() > 0.05 else None
    status = rng.choice(STATUSES)
    return {
        "document_id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "filename": f"contract-{n:06d}.pdf", "status": status,
        "error": "a value is uncertain" if status == "needs_review" else None,
        "title": rng.choice(TITLES), "effective_date": date,
        "effective_date_text": date.strftime("%B %d, %Y") if date else None,
        "term": rng.choice(TERMS), "jurisdiction": rng.choice(JURISDICTIONS),
        "termination_notice": rng.choice(NOTICES),
        "signatories": [f"Signatory {rng.randint(1, 999)}" for _ in names], "parties": parties,
    }


def receipt_text(r: dict[str, Any]) -> str:
    lines = [r["merchant_name"], r["merchant_address"], f"DATE {r['date_text'] or ''}"]
    lines += [f"{i['description']} {i['quantity']} x {i['unit_price']} {i['amount']}"
              for i in r["items"]]
    lines += [f"SUBTOTAL {r['subtotal']}", f"TAX {r['tax']}",
              f"TOTAL {r['currency']} {r['total']}", r["payment_method"] or ""]
    return "\n".join(lines)


def contract_text(c: dict[str, Any]) -> str:
    parties = " and ".join(f"{p['name']} (the \"{p['role']}\")" for p in c["parties"])
    return (f"{c['title'].upper()}\nThis agreement is made on {c['effective_date_text'] or ''} "
            f"between {parties}.\nTerm: {c['term'] or ''}. Governed by the laws of "
            f"{c['jurisdiction'] or ''}. Either party may terminate on "
            f"{c['termination_notice'] or ''} written notice.")


RECEIPT_FIELDS = ("merchant_name", "merchant_address", "date_text", "currency", "subtotal",
                  "tax", "total", "payment_method")
CONTRACT_FIELDS = ("title", "effective_date_text", "term", "jurisdiction", "termination_notice")


def _evidence(rng: random.Random, run_id: int, doc_id: uuid.UUID, text: str,
              values: list[tuple[str, Any]]) -> list[tuple[Any, ...]]:
    """extracted_fields rows: a confidence per value, and where it is in the text."""
    rows = []
    for position, (path, value) in enumerate(values):
        shown = None if value is None else str(value)
        start = text.find(shown) if shown else -1
        found = start >= 0
        confidence = round(rng.betavariate(8, 1.5), 4) if shown else 1.0
        bboxes = [{"x0": 10.0, "y0": 12.0 * position, "x1": 200.0, "y1": 12.0 * position + 10}]
        rows.append((run_id, doc_id, position, path.replace("_text", ""), shown, confidence,
                     1 if found else None, Jsonb(bboxes if found else []),
                     start if found else None, start + len(shown) if found and shown else None))
    return rows


def generate(database_url: str, receipts: int, contracts: int = 0, seed: int = 7,
             batches: int = 4) -> Generated:
    """Write `receipts` receipts and `contracts` contracts (spread over `batches` batches)
    into a migrated database; returns what it wrote."""
    rng = random.Random(seed)
    out = Generated(batch_ids=[uuid.UUID(int=rng.getrandbits(128), version=4)
                               for _ in range(max(batches, 1))])
    out.receipts = [_receipt(rng, n) for n in range(receipts)]
    out.contracts = [_contract(rng, n) for n in range(contracts)]
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM extraction_runs").fetchone()
        next_run = (row[0] if row else 0) + 1
        docs: list[tuple[Any, ...]] = []
        runs: list[tuple[Any, ...]] = []
        fields: list[tuple[Any, ...]] = []
        members: list[tuple[Any, ...]] = []
        typed: dict[str, list[tuple[Any, ...]]] = {"receipts": [], "receipt_items": [],
                                                  "contracts": [], "contract_parties": []}
        records = [("receipt", r) for r in out.receipts] + [("contract", c)
                                                            for c in out.contracts]
        for n, (kind, rec) in enumerate(records):
            doc_id, run_id = rec["document_id"], next_run + n
            rec["run_id"] = run_id
            text = receipt_text(rec) if kind == "receipt" else contract_text(rec)
            rec["text"] = text
            batch = out.batch_ids[n % len(out.batch_ids)]
            rec["batch_id"] = batch
            created = now - dt.timedelta(minutes=len(records) - n)
            sha = hashlib.sha256(doc_id.bytes).hexdigest()
            docs.append((doc_id, sha, rec["filename"], "image/jpeg" if kind == "receipt"
                         else "application/pdf", 1000 + n % 5000, kind, rec["status"],
                         rec["error"], 1, 1, "rapidocr" if kind == "receipt" else "pypdf",
                         created, created + dt.timedelta(seconds=9), text))
            members.append((batch, doc_id, rec["filename"]))
            valid = rec["status"] == "done"
            violations = [] if valid else [{"rule": "review", "message": rec["error"]}]
            runs.append((run_id, doc_id, created + dt.timedelta(seconds=9), MODEL, "0" * 64,
                         kind, kind, "head", 0.97,
                         Jsonb({"convert": 900.0, "classify": 120.0, "extract": 7400.0,
                                "store": 12.0}),
                         900, 120, 21.5, 0.9, True, "{}", valid, Jsonb(violations)))
            if kind == "receipt":
                typed["receipts"].append((doc_id, run_id, *(rec[k] for k in (
                    "merchant_name", "merchant_address", "date", "date_text", "currency",
                    "subtotal", "tax", "total", "payment_method"))))
                typed["receipt_items"] += [(doc_id, i, it["description"], it["quantity"],
                                            it["unit_price"], it["amount"])
                                           for i, it in enumerate(rec["items"])]
                values = [(k, rec[k]) for k in RECEIPT_FIELDS]
            else:
                typed["contracts"].append((doc_id, run_id, *(rec[k] for k in (
                    "title", "effective_date", "effective_date_text", "term", "jurisdiction",
                    "termination_notice", "signatories"))))
                typed["contract_parties"] += [(doc_id, i, p["name"], p["role"])
                                              for i, p in enumerate(rec["parties"])]
                values = [(k, rec[k]) for k in CONTRACT_FIELDS]
                values += [(f"parties[{i}].name", p["name"]) for i, p in
                           enumerate(rec["parties"])]
            fields += _evidence(rng, run_id, doc_id, text, values)
        with conn.transaction(), conn.cursor() as cur:
            _copy(cur, "batches (id, source, created_at)",
                  [(b, "bench", now) for b in out.batch_ids])
            _copy(cur, "blobs (sha256, size, data)",
                  [(d[1], 16, r[1]["document_id"].bytes) for d, r in zip(docs, records,
                                                                         strict=True)])
            _copy(cur, "documents (id, sha256, filename, mime_type, size, document_type, "
                  "status, error, attempts, pages, converter, created_at, updated_at, text)", docs)
            _copy(cur, "batch_documents (batch_id, document_id, filename)", members)
            _copy(cur, "extraction_runs (id, document_id, created_at, model, model_sha256, "
                  "adapter, document_type, classifier, classifier_confidence, timings_ms, "
                  "prompt_tokens, output_tokens, tokens_per_s, mean_token_prob, finished, "
                  "raw_output, valid, violations)", runs)
            _copy(cur, "extracted_fields (run_id, document_id, position, path, value, "
                  "confidence, page, bboxes, char_start, char_end)", fields)
            _copy(cur, "receipts (document_id, run_id, merchant_name, merchant_address, date, "
                  "date_text, currency, subtotal, tax, total, payment_method)",
                  typed["receipts"])
            _copy(cur, "receipt_items (document_id, position, description, quantity, "
                  "unit_price, amount)", typed["receipt_items"])
            _copy(cur, "contracts (document_id, run_id, title, effective_date, "
                  "effective_date_text, term, jurisdiction, termination_notice, signatories)",
                  typed["contracts"])
            _copy(cur, "contract_parties (document_id, position, name, role)",
                  typed["contract_parties"])
            cur.execute("SELECT setval(pg_get_serial_sequence('extraction_runs', 'id'), "
                        "greatest((SELECT max(id) FROM extraction_runs), 1))")
    return out


def _copy(cur: psycopg.Cursor[Any], target: str, rows: list[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
