"""Retraining by itself: once enough reviewed documents of a type arrived, scrub them, continue
training the type's current adapter on them, and promote the result only past the gate.

`check` is what the trainer's schedule (Celery beat, `workers/training_app.py`) calls; `run`
is one run, also started by hand with `docket training run TYPE`. Each run is a row in
`training_runs` that says its stage and progress as it goes (the API and the review page read
it) and ends `promoted`, `refused` or `failed` with the reason. The row is also the lock that
keeps it to one training job at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pipeline import doctypes
from pipeline.settings import Settings
from pipeline.storage import training_runs
from pipeline.storage.db import connect

if TYPE_CHECKING:  # the API imports this module for its stages; it never loads a model
    from pipeline.slm.runtime import Runtime

log = logging.getLogger(__name__)

# A run that failed (a crash, a trainer killed) is tried again, but not before this long: a
# failure that repeats should not take the trainer every few minutes.
RETRY_FAILED_AFTER = dt.timedelta(hours=6)
HEARTBEAT_S = 5.0  # progress is written at most this often (and on each new stage)
ALIVE_EVERY_S = 60.0  # a running run says it is alive this often, whatever it is doing

Listener = Callable[[str, dict[str, Any]], None]  # stage, progress


@dataclass
class Outcome:
    adapter: str
    status: str  # promoted, refused, failed, or busy (another run held the lock)
    reason: str
    run_id: int | None = None
    version: int | None = None


def in_window(window: str, timezone: str, now: dt.datetime | None = None) -> bool:
    """Whether `now` falls in 'HH:MM-HH:MM' (which may cross midnight); '' is always."""
    if not window:
        return True
    start, end = (dt.time.fromisoformat(part) for part in window.split("-"))
    local = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(timezone)).time()
    return start <= local < end if start <= end else local >= start or local < end


def due(settings: Settings, now: dt.datetime | None = None) -> list[tuple[str, int]]:
    """The adapters with at least `retrain_min_corrections` new reviewed documents, most first,
    as (adapter, new corrections)."""
    from pipeline.slm.live_adapters import current_adapter

    if settings.retrain_min_corrections <= 0:
        return []
    now = now or dt.datetime.now(dt.UTC)
    found = []
    with connect() as conn:
        for doctype in doctypes.REGISTRY.values():
            if not doctype.adapter or (settings.retrain_adapters
                                       and doctype.adapter not in settings.retrain_adapters):
                continue
            last = training_runs.latest(conn, doctype.adapter)
            if last and last["status"] == "failed" and \
                    last["finished_at"] and now - last["finished_at"] < RETRY_FAILED_AFTER:
                continue
            # New: saved after the newest correction that a decided run, or the current
            # version (trained by hand, say), learned from.
            adapter = current_adapter(conn, doctype.adapter,
                                      settings.model_cache_dir / "adapter-versions")
            learned_to = adapter.manifest.get("training", {}).get("corrected_to") \
                if adapter else None
            known = [at for at in (training_runs.last_trained_through(conn, doctype.adapter),
                                   dt.datetime.fromisoformat(learned_to) if learned_to else None)
                     if at is not None]
            count = training_runs.new_corrections(conn, doctype.name,
                                                  max(known) if known else None)
            if count >= settings.retrain_min_corrections:
                found.append((doctype.adapter, count))
    return sorted(found, key=lambda item: -item[1])


def check(settings: Settings, runtime: Callable[[], Runtime],
          now: dt.datetime | None = None) -> Outcome | None:
    """The trainer's look (on its schedule, and when an admin asks): release a dead run's lock;
    take up an admin's request, whatever the window and the count; else, inside the window,
    retrain the adapter with the most new corrections. One run a look: the next takes the next.
    """
    _release_dead(settings)
    with connect() as conn:
        waiting = training_runs.requests(conn)
    if waiting:
        asked = waiting[0]
        return run(asked["adapter"], settings, runtime, asked["triggered_by"],
                   request_id=asked["id"])
    if not in_window(settings.retrain_window, settings.retrain_timezone, now):
        return None
    candidates = due(settings, now)
    if not candidates:
        return None
    adapter, count = candidates[0]
    return run(adapter, settings, runtime, "schedule", count)


def run(adapter: str, settings: Settings, runtime: Callable[[], Runtime], triggered_by: str,
        corrections: int | None = None, listener: Listener | None = None,
        request_id: int | None = None) -> Outcome:
    """One run: scrub and gather the corrections, continue the current version on them,
    store the result as a version, and promote it if the gate lets it through."""
    _release_dead(settings)
    with connect() as conn:
        run_id = training_runs.start(conn, adapter, triggered_by, corrections, request_id)
    if run_id is None:
        return Outcome(adapter, "busy", "another training run is running (one at a time); "
                       "ask again when it has finished")
    report = _Reporter(run_id, listener)
    alive = _Alive(run_id)
    try:
        outcome = _train_and_decide(adapter, settings, runtime, report)
    except Exception as exc:  # any failure ends the run, said plainly, and frees the lock
        log.exception("training run %s failed", run_id)
        outcome = Outcome(adapter, "failed", f"{type(exc).__name__}: {exc}")
    finally:
        alive.stop()
    outcome.run_id = run_id
    with connect() as conn:
        if not training_runs.finish(conn, run_id, outcome.status, outcome.reason,
                                    report.finished()):
            log.warning("training run %s had been marked failed before it ended %s",
                        run_id, outcome.status)
    log.info("training run %s of %s: %s (%s)", run_id, adapter, outcome.status, outcome.reason)
    return outcome


def _release_dead(settings: Settings) -> None:
    """Fail the running run whose trainer died (it stopped saying it is alive)."""
    with connect() as conn:
        for run_id in training_runs.mark_stale(conn, settings.retrain_stale_s):
            log.warning("training run %s stopped reporting; marked failed", run_id)


class _Alive:
    """Says the run is alive every ALIVE_EVERY_S from a thread of its own, through stages that
    report no progress (scrubbing, the ONNX export, loading the runtime): only a run whose
    process died goes stale."""

    def __init__(self, run_id: int) -> None:
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, args=(run_id,), daemon=True,
                                       name=f"training-run-{run_id}-alive")
        self.thread.start()

    def _beat(self, run_id: int) -> None:
        while not self.stopped.wait(ALIVE_EVERY_S):
            try:
                with connect() as conn:
                    training_runs.heartbeat(conn, run_id)
            except Exception:  # an outage: the next beat tries again
                log.warning("training run %s could not say it is alive", run_id, exc_info=True)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)


def _train_and_decide(adapter: str, settings: Settings, runtime: Callable[[], Runtime],
                      report: _Reporter) -> Outcome:
    from pipeline.slm.live_adapters import sync
    from pipeline.storage import adapter_versions
    from pipeline.training.job import plan
    from pipeline.training.lora import TrainConfig, train
    from pipeline.training.promotion import promote

    doc_type = doctypes.types_of(adapter)[0]
    report("scrubbing", {})
    job = plan(doc_type, None, True, False, None, None, settings)
    with connect() as conn:
        training_runs.trained_through(conn, report.run_id,
                                      dt.datetime.fromisoformat(job.summary["corrected_to"]))
    report("training", {"examples": len(job.targets)})
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    folder = settings.model_cache_dir / "adapter-runs" / f"{adapter}-{stamp}"
    train(job.targets, folder, settings,
          TrainConfig(epochs=settings.retrain_epochs,
                      learning_rate=settings.retrain_learning_rate),
          job.summary,
          lambda n, total, loss: report("training", {"step": n, "total": total,
                                                     "loss": round(loss, 4)}),
          job.init_adapter)
    with connect() as conn:
        version = adapter_versions.store(conn, adapter, folder, f"retraining run {report.run_id}")
        shutil.rmtree(folder, ignore_errors=True)  # Postgres holds it now
        stored = adapter_versions.get(conn, adapter, version)
        assert stored is not None
        report("evaluating", {}, version_id=stored["id"])
        held = runtime()
        cache = settings.model_cache_dir / "adapter-versions"
        sync(conn, held, cache)
        decision = promote(conn, adapter, version, held, settings, cache,
                           settings.retrain_eval_documents, settings.retrain_margin,
                           f"retraining run {report.run_id}",
                           lambda which, n, total: report("evaluating", {
                               "comparing": which, "step": n, "total": total}))
    return Outcome(adapter, "promoted" if decision.promoted else "refused", decision.reason,
                   version=version)


class _Reporter:
    """Writes the run's stage, progress and each stage's seconds to its row, at most every
    HEARTBEAT_S seconds within a stage, and tells the listener (the CLI's bar) every time."""

    def __init__(self, run_id: int, listener: Listener | None) -> None:
        self.run_id = run_id
        self.listener = listener
        self.stage = ""
        self.written = 0.0
        self.stage_started = time.monotonic()
        self.seconds: dict[str, float] = {}

    def __call__(self, stage: str, progress: dict[str, Any],
                 version_id: int | None = None) -> None:
        if self.listener:
            self.listener(stage, progress)
        now = time.monotonic()
        new_stage = stage != self.stage
        if new_stage:
            if self.stage:
                self.seconds[self.stage] = round(now - self.stage_started, 1)
            self.stage, self.stage_started = stage, now
        self.seconds[stage] = round(now - self.stage_started, 1)
        done = progress.get("step") == progress.get("total") and "step" in progress
        if not (new_stage or version_id or done) and now - self.written < HEARTBEAT_S:
            return
        self.written = now
        with connect() as conn:
            training_runs.update(conn, self.run_id, stage, progress, self.seconds, version_id)

    def finished(self) -> dict[str, float]:
        """Each stage's seconds, the last one closed now."""
        if self.stage:
            self.seconds[self.stage] = round(time.monotonic() - self.stage_started, 1)
        return self.seconds
