"""Adapter versions in Postgres on real parts: a reviewed document frozen into the regression
set, versions stored, a worse one refused by the gate, a sound one promoted, the session's
running worker using it from its next document without a restart, and a rollback it picks up
the same way. Real model, real Postgres, the real CLI."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from pipeline.process import process_document
from pipeline.queue import enqueue
from pipeline.review import apply_corrections
from pipeline.slm.adapters import ADAPTERS_DIR
from pipeline.storage import adapter_versions, records
from pipeline.storage.db import connect
from pipeline.storage.documents import add_document, create_batch
from pipeline.storage.keys import find_key
from pipeline.storage.reviews import training_examples
from tests.test_adapters import _docket

FILES = ("adapter_model.safetensors", "adapter_config.json", "manifest.json")


def _receipt_run(database: str) -> dict[str, Any]:
    """Queue a new receipt for the session's worker and return its extraction run."""
    text = f"KEDAI MAKAN {uuid.uuid4().hex[:6]}\n12/01/2025\nNASI LEMAK 5.00\nTOTAL 5.00\n"
    with connect(database) as conn:
        stored = add_document(conn, create_batch(conn, "test"), "r.txt", text.encode(),
                              "receipt")
    enqueue([stored.document_id])
    deadline = time.monotonic() + 300
    while True:
        with connect(database) as conn:
            run = records.latest_run(conn, stored.document_id)
        if run is not None:
            return run
        assert time.monotonic() < deadline, "the worker never processed the receipt"
        time.sleep(0.5)


def _reviewed_receipt(database: str, runtime: Any, settings: Any, reviewer_key: str
                      ) -> uuid.UUID:
    """A receipt processed by the real pipeline and corrected by a reviewer."""
    text = (f"WARUNG PAK ALI\nNo. 3 Jalan Besar, Ipoh\n05/02/2025\nTEH TARIK 2.50\n"
            f"ROTI CANAI 1.50\nTOTAL 4.00\nRef {uuid.uuid4()}\n")
    with connect(database) as conn:
        stored = add_document(conn, create_batch(conn, "test"), "warung.txt", text.encode(),
                              "receipt")
    process_document(stored.document_id, runtime, settings)
    with connect(database) as conn:
        reviewer = find_key(conn, reviewer_key)
        assert reviewer is not None
        apply_corrections(conn, stored.document_id, {"merchant_name": "WARUNG PAK ALI",
                                                     "total": "4.00", "date": "05/02/2025"},
                          reviewer)
    return stored.document_id


def test_versions_are_gated_promoted_picked_up_and_rolled_back(
    database: str, worker: object, tmp_path: Path, runtime: Any, settings: Any,
    api_keys: dict[str, str],
) -> None:
    # A reviewed receipt set aside as the regression set: checked at every promotion, never
    # trained on.
    frozen = _reviewed_receipt(database, runtime, settings, api_keys["reviewer"])
    froze = _docket("adapters", "freeze", "receipt", "--count", "1")
    assert froze.returncode == 0, froze.stderr[-2000:]
    with connect(database) as conn:
        [row] = [r for r in adapter_versions.regression_set(conn, "receipt")
                 if r["document_id"] == frozen]
        assert row["expected"]["total"] == "4.00"
        assert frozen not in {r["document_id"] for r in training_examples(conn, "receipt")}

    registered = _docket("adapters", "register", "receipt")
    assert registered.returncode == 0, registered.stderr[-2000:]
    sound = int(registered.stdout.strip())

    # A worse version: the same adapter with its LoRA B matrices zeroed (the plain base).
    worse_dir = tmp_path / "receipt-worse"
    worse_dir.mkdir()
    for name in FILES:
        shutil.copy(ADAPTERS_DIR / "receipt" / name, worse_dir / name)
    tensors = load_file(str(worse_dir / FILES[0]))
    save_file({k: v * 0 if "lora_B" in k else v for k, v in tensors.items()},
              str(worse_dir / FILES[0]))
    registered = _docket("adapters", "register", "receipt", "--from", str(worse_dir))
    assert registered.returncode == 0, registered.stderr[-2000:]
    worse = int(registered.stdout.strip())
    assert worse == sound + 1

    try:
        refused = _docket("adapters", "promote", "receipt", str(worse), "--limit", "3")
        assert refused.returncode == 1 and "Refused" in refused.stderr, refused.stderr[-3000:]
        with connect(database) as conn:
            assert "receipt" not in adapter_versions.current(conn)  # still the committed one
            [decision] = [d for d in adapter_versions.history(conn, "receipt")
                          if d["version"] == worse]
        assert decision["action"] == "refuse" and "worse" in decision["reason"]
        fields = decision["comparison"]["fields"]
        assert any(f["candidate"] < f["current"] for f in fields.values())
        assert {"regression:total", "sroie:total"} <= set(fields)  # both sets compared

        promoted = _docket("adapters", "promote", "receipt", str(sound), "--limit", "3")
        assert promoted.returncode == 0, promoted.stderr[-3000:]
        assert _receipt_run(database)["adapter"] == f"receipt@v{sound}"  # no restart

        rolled = _docket("adapters", "rollback", "receipt")
        assert rolled.returncode == 0 and "committed" in rolled.stderr, rolled.stderr
        assert _receipt_run(database)["adapter"] == "receipt"
    finally:  # later tests expect the committed adapter
        with connect(database) as conn:
            current = adapter_versions.current(conn).get("receipt")
            if current is not None and current.version is not None:
                adapter_versions.decide(conn, "receipt", None, "rollback", "test cleanup")
