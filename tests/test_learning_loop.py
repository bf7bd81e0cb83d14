"""The learning loop end to end on real parts: a reviewer corrects a receipt on the review page
(headless Chromium, the real API), a real trainer process (`docket training worker`, Celery
beat) sees the new correction, scrubs it, continues the current adapter on it, evaluates the
result against the current version and promotes it; the session's running extraction worker
uses the new version on its next document without a restart. A second trainer, set to learn
far too fast, makes a worse version: the gate refuses it and the workers keep the good one."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from pipeline.process import process_document
from pipeline.queue import RETRAIN_CHECK_TASK, TRAINING_QUEUE
from pipeline.storage import adapter_versions
from pipeline.storage.db import connect
from pipeline.storage.documents import add_document, create_batch
from tests.conftest import ROOT, headers, stop_worker
from tests.test_adapter_versions import _receipt_run, _reviewed_receipt
from tests.test_review_page import _shot, _sign_in, browser, server

__all__ = ["browser", "server"]  # fixtures used here

TRAINER_LOG = ROOT / "test-artifacts" / "trainer.log"
# The loop's schedule, shortened: any time, from one new correction, checked every few seconds,
# receipts only, and a gate on 2 dev documents (CI's budget; the default is 20).
TRAINER_ENV = {
    "DOCKET_RETRAIN_MIN_CORRECTIONS": "1",
    "DOCKET_RETRAIN_WINDOW": "",
    "DOCKET_RETRAIN_CHECK_S": "3",
    "DOCKET_RETRAIN_ADAPTERS": "receipt",
    "DOCKET_RETRAIN_EVAL_DOCUMENTS": "2",
}
PHONE = "+60 12-345 6789"
CASHIER = "Nurul Syafiqah"


def _start_trainer(env: dict[str, str]) -> subprocess.Popen[bytes]:
    TRAINER_LOG.parent.mkdir(exist_ok=True)
    with TRAINER_LOG.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "training", "worker"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **TRAINER_ENV, **env},
        )
    return proc


def _reviewable_receipt(database: str, runtime: Any, settings: Any) -> uuid.UUID:
    """A receipt with a cashier's name and phone number on it (personal data that is no field
    of the record), run through the real pipeline."""
    text = (f"KEDAI RUNCIT MAJU\nLot 7 Jalan Pasar, Klang\nTel: {PHONE}\nCashier: {CASHIER}\n"
            f"14/03/2025\nGULA 1KG 3.20\nBERAS 5KG 18.90\nTOTAL 22.10\nRef {uuid.uuid4()}\n")
    with connect(database) as conn:
        stored = add_document(conn, create_batch(conn, "test"), "kedai.txt", text.encode(),
                              "receipt")
    process_document(stored.document_id, runtime, settings)
    return stored.document_id


def _correct_on_the_page(browser: Any, server: str, secret: str, document_id: uuid.UUID,
                         values: dict[str, str]) -> None:
    page = _sign_in(browser, server, secret)
    page.goto(f"{server}/review/documents/{document_id}")
    for path, value in values.items():
        page.locator(f'input[data-path="{path}"]').fill(value)
    page.click("#save")
    page.wait_for_url(f"**/review/documents/{document_id}?saved=*")
    page.close()


def _follow_run(server: str, api_keys: dict[str, str], after: int,
                timeout: float = 900) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Poll GET /v1/training/runs until a run newer than `after` ends; returns it and every
    state seen while it ran."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{server}/v1/training/runs", params={"adapter": "receipt"},
                             headers=headers(api_keys, "reviewer"), timeout=10)
        assert response.status_code == 200, response.text
        runs = [r for r in response.json() if r["id"] > after]
        if runs:
            run = runs[-1]
            if run["status"] != "running":
                return run, seen
            seen.append(run)
        time.sleep(0.5)
    raise AssertionError("no training run ended:\n" + TRAINER_LOG.read_text()[-4000:])


def _saved_at(database: str, document_id: uuid.UUID) -> dt.datetime:
    """When the reviewer's save made the document's training example."""
    with connect(database) as conn:
        row = conn.execute("SELECT updated_at FROM training_examples WHERE document_id = %s",
                           (document_id,)).fetchone()
    assert row is not None, "the correction left no training example"
    return row["updated_at"]


def _niceness(group: int) -> list[int]:
    """The nice values of a process group's processes."""
    out = subprocess.run(["ps", "-o", "ni=", "-g", str(group)], capture_output=True,
                         text=True, check=True).stdout
    return [int(n) for n in out.split()]


def _last_run_id(database: str) -> int:
    with connect(database) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) AS id FROM training_runs").fetchone()
    assert row is not None
    return int(row["id"])


def test_a_correction_on_the_review_page_becomes_a_promoted_version_and_a_worse_one_is_refused(
    database: str, worker: object, runtime: Any, settings: Any, api_keys: dict[str, str],
    server: str, browser: Any,
) -> None:
    document_id = _reviewable_receipt(database, runtime, settings)
    before = _last_run_id(database)
    started = time.monotonic()
    _correct_on_the_page(browser, server, api_keys["reviewer"], document_id,
                         {"merchant_name": "KEDAI RUNCIT MAJU", "total": "22.10",
                          "date": "14/03/2025"})
    trainer = _start_trainer({})  # started after the save: its first look must see it
    try:
        run, seen = _follow_run(server, api_keys, before)
        loop_s = time.monotonic() - started
        niceness = _niceness(trainer.pid)
    finally:
        stop_worker(trainer)
    log = TRAINER_LOG.read_text()
    assert run["status"] == "promoted", (run, log[-4000:])
    assert run["triggered_by"] == "schedule" and run["corrections"] >= 1
    # Progress was visible through the API while it ran: training steps, then the gate.
    stages = [s["stage"] for s in seen]
    assert "training" in stages and "evaluating" in stages, stages
    assert set(run["stage_seconds"]) == {"scrubbing", "training", "evaluating"}, run
    steps = [s["progress"] for s in seen if s["stage"] == "training" and "step" in s["progress"]]
    assert steps and all(0 < p["step"] <= p["total"] for p in steps), steps
    assert 19 in niceness, niceness  # its pool process yields the CPU to extraction

    version = run["version"]
    with connect(database) as conn:
        current = adapter_versions.current(conn)["receipt"]
        stored = adapter_versions.get(conn, "receipt", version)
        [decision] = [d for d in adapter_versions.history(conn, "receipt")
                      if d["version"] == version]
    assert current.version == version
    assert decision["action"] == "promote" and decision["decided_by"].startswith("retraining")
    assert stored is not None
    training = stored["manifest"]["training"]
    # It learned from this reviewer's save (the newest correction it read is this one's)...
    assert dt.datetime.fromisoformat(training["corrected_to"]) == _saved_at(database, document_id)
    # ...scrubbed before training: the phone and the cashier were replaced.
    assert training["scrubbed"].get("PHONE_NUMBER", 0) >= 1, training["scrubbed"]
    assert training["scrubbed"].get("PERSON", 0) >= 1, training["scrubbed"]
    assert training["continued_from"]["adapter"] == "receipt"
    # The running worker takes the new version on its next document: no restart.
    assert _receipt_run(database)["adapter"] == f"receipt@v{version}"

    # The review page shows the run and its outcome.
    page = _sign_in(browser, server, api_keys["reviewer"])
    page.goto(f"{server}/review/training")
    row = page.locator(f'tr[data-run-id="{run["id"]}"]')
    assert row.get_attribute("data-status") == "promoted"
    assert f"v{version}" in row.inner_text()
    _shot(page, "training-runs")
    page.close()

    # A worse version: a trainer set to learn far too fast, on one more correction.
    second = _reviewable_receipt(database, runtime, settings)
    _correct_on_the_page(browser, server, api_keys["reviewer"], second,
                         {"merchant_name": "KEDAI RUNCIT MAJU", "total": "22.10"})
    before = _last_run_id(database)
    trainer = _start_trainer({"DOCKET_RETRAIN_LEARNING_RATE": "0.05",
                              "DOCKET_RETRAIN_EPOCHS": "3"})
    try:
        worse, _ = _follow_run(server, api_keys, before)
    finally:
        stop_worker(trainer)
    assert worse["status"] == "refused", (worse, TRAINER_LOG.read_text()[-4000:])
    assert "worse than the current version" in worse["reason"]
    assert worse["corrections"] == 1  # only the new one counted: the first was learned
    with connect(database) as conn:
        assert adapter_versions.current(conn)["receipt"].version == version
        refused = adapter_versions.get(conn, "receipt", worse["version"])
    assert refused is not None
    assert dt.datetime.fromisoformat(refused["manifest"]["training"]["corrected_to"]) == \
        _saved_at(database, second)
    assert _receipt_run(database)["adapter"] == f"receipt@v{version}"
    figures = {"loop_seconds": round(loop_s), "promoted": run, "refused": worse}
    (ROOT / "test-artifacts" / "learning-loop.json").write_text(
        json.dumps(figures, indent=2, default=str))


@pytest.fixture(autouse=True)
def _committed_adapter_after(database: str) -> Iterator[None]:
    """Later tests expect the committed receipt adapter."""
    yield
    with connect(database) as conn:
        current = adapter_versions.current(conn).get("receipt")
        if current is not None and current.version is not None:
            adapter_versions.decide(conn, "receipt", None, "rollback", "test cleanup")


def test_the_window_and_the_count_decide_when_a_run_is_due(
    database: str, settings: Any, runtime: Any, api_keys: dict[str, str],
) -> None:
    from pipeline.storage import training_runs
    from pipeline.training.retraining import due, in_window

    at = dt.datetime(2026, 12, 6, 2, 30, tzinfo=dt.UTC)
    assert in_window("01:00-05:00", "UTC", at)
    assert not in_window("03:00-05:00", "UTC", at)
    assert in_window("22:00-03:00", "UTC", at)  # across midnight
    assert not in_window("22:00-03:00", "Asia/Kuala_Lumpur", at)  # 10:30 there
    assert in_window("", "UTC", at)
    many = settings.model_copy(update={"retrain_min_corrections": 10_000})
    assert due(many) == []
    off = settings.model_copy(update={"retrain_min_corrections": 0})
    assert due(off) == []

    # A new correction makes the type due; once a decided run learned through it, it is not.
    reviewed = _reviewed_receipt(database, runtime, settings, api_keys["reviewer"])
    one = settings.model_copy(update={"retrain_min_corrections": 1,
                                      "retrain_adapters": ["receipt"]})
    [(adapter, count)] = due(one)
    assert adapter == "receipt" and count >= 1
    with connect(database) as conn:
        run_id = training_runs.start(conn, "receipt", "test", count)
        assert run_id is not None
        training_runs.trained_through(conn, run_id, _saved_at(database, reviewed))
        assert training_runs.finish(conn, run_id, "refused", "test", {})
    try:
        assert due(one) == []
    finally:
        with connect(database) as conn:
            conn.execute("DELETE FROM training_runs WHERE id = %s", (run_id,))


def test_one_run_at_a_time_and_a_dead_run_is_released(database: str) -> None:
    from pipeline.storage import training_runs

    with connect(database) as conn:
        before = _last_run_id(database)
        first = training_runs.start(conn, "receipt", "test", 1)
        assert first is not None
        assert training_runs.start(conn, "contract", "test", 1) is None  # one at a time
        conn.execute("UPDATE training_runs SET updated_at = now() - interval '2 hours' "
                     "WHERE id = %s", (first,))
        assert training_runs.mark_stale(conn, 3600) == [first]
        [row] = [r for r in training_runs.listing(conn) if r["id"] == first]
        assert row["status"] == "failed" and "trainer stopped" in row["reason"]
        second = training_runs.start(conn, "receipt", "test", 1)
        assert second is not None
        training_runs.finish(conn, second, "failed", "test", {"training": 1.5})
        [row] = [r for r in training_runs.listing(conn) if r["id"] == second]
        assert row["status"] == "failed" and row["stage_seconds"] == {"training": 1.5}
        assert row["finished_at"] is not None
        assert not training_runs.finish(conn, second, "refused", "again", {})  # ended once
        # These runs were the test's: a failed one would hold retraining back for hours.
        conn.execute("DELETE FROM training_runs WHERE id > %s", (before,))


def test_training_routes_need_the_right_role(server: str, api_keys: dict[str, str],
                                             broker: str, database: str) -> None:
    listed = httpx.get(f"{server}/v1/training/runs", headers=headers(api_keys, "uploader"))
    assert listed.status_code == 403
    asked = httpx.post(f"{server}/v1/training/runs", json={"adapter": "receipt"},
                       headers=headers(api_keys, "reviewer"))
    assert asked.status_code == 403
    unknown = httpx.post(f"{server}/v1/training/runs", json={"adapter": "nope"},
                         headers=headers(api_keys, "admin"))
    assert unknown.status_code == 422 and "nope" in unknown.text
    # An admin's request waits as a `requested` run, once per adapter, and wakes the trainer.
    queue = redis.Redis.from_url(broker)
    before = queue.llen(TRAINING_QUEUE)
    asked = httpx.post(f"{server}/v1/training/runs", json={"adapter": "receipt"},
                       headers=headers(api_keys, "admin"))
    assert asked.status_code == 202
    assert asked.json() == {"requested": "receipt", "already_waiting": False}
    again = httpx.post(f"{server}/v1/training/runs", json={"adapter": "receipt"},
                       headers=headers(api_keys, "admin"))
    assert again.json() == {"requested": "receipt", "already_waiting": True}
    listed = httpx.get(f"{server}/v1/training/runs", headers=headers(api_keys, "reviewer"))
    waiting = [r for r in listed.json() if r["status"] == "requested"]
    assert len(waiting) == 1 and waiting[0]["triggered_by"] == "key test-admin"
    assert queue.llen(TRAINING_QUEUE) == before + 2
    messages = [json.loads(queue.lpop(TRAINING_QUEUE) or b"{}") for _ in range(2)]
    assert {m["headers"]["task"] for m in messages} == {RETRAIN_CHECK_TASK}
    with connect(database) as conn:  # not left for a later trainer
        conn.execute("DELETE FROM training_runs WHERE id = %s", (waiting[0]["id"],))


def test_a_version_with_nothing_to_compare_on_is_refused(
    database: str, runtime: Any, settings: Any, tmp_path: Path,
) -> None:
    """Where no dev document is at hand (a deployment without the datasets) and no regression
    set was frozen, the gate cannot test a version: it refuses it, rather than passing a
    version it never saw work (every field 'no worse' than nothing)."""
    from pipeline.slm.adapters import ADAPTERS_DIR
    from pipeline.training.promotion import NOTHING_TO_COMPARE, promote

    with connect(database) as conn:
        assert adapter_versions.regression_set(conn, "datasheet") == []
        version = adapter_versions.store(conn, "datasheet", ADAPTERS_DIR / "datasheet", "test")
        # --limit 0: none of the type's dev documents, as on a machine without them
        decision = promote(conn, "datasheet", version, runtime, settings, tmp_path, 0, 0.02,
                           "test")
        [last] = adapter_versions.history(conn, "datasheet")[-1:]
    assert not decision.promoted
    assert decision.reason == NOTHING_TO_COMPARE.format(name="datasheet")
    assert last["action"] == "refuse" and last["version"] == version
    with connect(database) as conn:
        assert "datasheet" not in adapter_versions.current(conn)  # the committed one serves
