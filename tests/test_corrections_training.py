"""Corrections become training data: a reviewed document's corrected draft, with the prompt
extraction builds, continues the committed adapter (`docket adapters train --from-corrections`).
Real model, real Postgres, the real CLI."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from safetensors.torch import load_file

from pipeline.process import process_document
from pipeline.review import apply_corrections
from pipeline.slm.adapters import ADAPTERS_DIR
from pipeline.storage.db import connect
from pipeline.storage.documents import add_document, create_batch
from pipeline.storage.keys import find_key
from pipeline.training.corrections import correction_targets
from tests.test_adapters import _docket


def test_corrections_continue_the_adapter_they_correct(
    database: str, runtime: Any, settings: Any, api_keys: dict[str, str], tmp_path: Path,
) -> None:
    receipt = (f"BEAN THERE COFFEE\n8 Jalan Ampang, Kuala Lumpur\nDate: 02/03/2025\n"
               f"Cashier: Siti Aminah  Tel: +60 12-345 6789\n"
               f"Latte 2 x 4.50 9.00\nTOTAL RM 9.00\nVISA 4111 1111 1111 1111\n"
               f"Ref {uuid.uuid4()}\n").encode()
    with connect(database) as conn:
        stored = add_document(conn, create_batch(conn, "test"), "bean.txt", receipt, "receipt")
    process_document(stored.document_id, runtime, settings)

    with connect(database) as conn:
        reviewer = find_key(conn, api_keys["reviewer"])
        assert reviewer is not None
        apply_corrections(conn, stored.document_id,
                          {"merchant_name": "BEAN THERE COFFEE", "total": "9.00",
                           "date": "02/03/2025"}, reviewer)
        targets, summary = correction_targets(conn, "receipt", settings, ["payment_method"])
    ours = [t for t in targets if t.key == f"correction:{stored.document_id}"]
    assert len(ours) == 1 and summary["corrections"] == len(targets)
    answer = json.loads(ours[0].text)
    assert answer["merchant_name"] == "BEAN THERE COFFEE" and answer["total"] == "9.00"
    assert "BEAN THERE COFFEE" in ours[0].prompt and ours[0].prompt.endswith("JSON: ")
    # Personal data that is no field is replaced before anything trains on it.
    for personal in ("Siti Aminah", "345 6789", "1111 1111 1111"):  # "VISA 4111" may be a value
        assert personal not in ours[0].prompt and personal not in ours[0].text
    assert "Cashier: " in ours[0].prompt and "Tel: +60 1" in ours[0].prompt
    assert summary["scrubbed"]["PERSON"] >= 1 and summary["scrubbed"]["CREDIT_CARD"] >= 1
    if answer["payment_method"] is None:  # a field the adapter never learned, left empty
        assert "payment_method" in ours[0].unscored

    out = tmp_path / "receipt"
    result = _docket("adapters", "train", "--type", "receipt", "--from-corrections",
                     "--output", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    committed = json.loads((ADAPTERS_DIR / "receipt" / "manifest.json").read_text())
    assert manifest["training"]["corrections"] == len(targets)
    assert manifest["training"]["scrubbed"]["PHONE_NUMBER"] >= 1
    assert manifest["training"]["continued_from"]["adapter"] == "receipt"
    assert manifest["rank"] == committed["rank"] and manifest["layers"] == committed["layers"]
    before = load_file(str(ADAPTERS_DIR / "receipt" / "adapter_model.safetensors"))
    after = load_file(str(out / "adapter_model.safetensors"))
    assert before.keys() == after.keys()
    assert any(not before[k].equal(after[k]) for k in before)  # it learned something

    nothing = _docket("adapters", "train", "--type", "receipt")
    assert nothing.returncode == 2 and "Nothing to learn from" in nothing.stderr
