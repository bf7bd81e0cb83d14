"""One document through every stage. The worker, `docket run` and `docket extract` all call this.

`run_stages` is pure (bytes in, outcome out, no database); `process_document` wraps it with
the durable parts: claim the document, store the run and record, set the final status.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg import Connection

from pipeline import doctypes, worker_metrics
from pipeline.classify import Classification, classify
from pipeline.convert import convert
from pipeline.document import Document
from pipeline.errors import DocumentError
from pipeline.extract import Extraction, extract
from pipeline.memory import release_free_memory
from pipeline.settings import Settings
from pipeline.slm import live_adapters
from pipeline.slm.runtime import Runtime
from pipeline.storage import documents, embeddings, records
from pipeline.storage.db import connect
from pipeline.storage.documents import Status
from schemas.common import review_reason

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: Status  # done, needs_review or failed: where `run_stages` ends
    error: str | None = None
    document: Document | None = None
    classification: Classification | None = None
    extraction: Extraction | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def document_type(self) -> str | None:
        return self.classification.document_type if self.classification else None

    def record_json(self) -> dict[str, Any] | None:
        if self.extraction is None or self.extraction.record is None:
            return None
        return self.extraction.record.model_dump(mode="json")

    def fields_json(self) -> list[dict[str, Any]]:
        """Each value's confidence and provenance (page, boxes, character span)."""
        if self.extraction is None:
            return []
        return [f.model_dump(mode="json") for f in self.extraction.fields]

    def violations_json(self) -> list[dict[str, Any]]:
        if self.extraction is None:
            return []
        return [v.model_dump() for v in self.extraction.violations]


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round((time.perf_counter() - started) * 1000, 1)


Converter = Callable[[bytes, str, Settings], Document]


def run_stages(
    data: bytes, filename: str, runtime: Runtime, settings: Settings, hint: str | None = None,
    converter: Converter = convert,
) -> Outcome:
    """convert → classify → extract → validate. Bad input ends `failed` with a reason.

    `converter` is `convert` itself except in evaluations, which reuse cached conversions.
    What the document's stages freed goes back to the system before the next document.
    """
    try:
        return _run_stages(data, filename, runtime, settings, hint, converter)
    finally:
        release_free_memory()


def _run_stages(data: bytes, filename: str, runtime: Runtime, settings: Settings,
                hint: str | None, converter: Converter) -> Outcome:
    timings: dict[str, float] = {}
    try:
        with _timed(timings, "convert"):
            document = converter(data, filename, settings)
    except DocumentError as exc:
        return Outcome(Status.FAILED, str(exc), timings_ms=timings)

    with _timed(timings, "classify"):
        classification = classify(document, runtime, hint)
    if classification.document_type == doctypes.UNKNOWN:
        known = " or ".join(doctypes.REGISTRY)
        return Outcome(
            Status.FAILED,
            f"Docket could not tell what kind of document this is (it is not recognisably a "
            f"{known}). If it is one, upload it again with a document type hint.",
            document, classification, timings_ms=timings,
        )
    doctype = doctypes.get(classification.document_type)
    with _timed(timings, "extract"):
        extraction = extract(document, doctype, runtime, settings)
    timings["prefill"] = round(sum(g.prefill_s for g in extraction.passes) * 1000, 1)
    timings["decode"] = round(sum(g.decode_s for g in extraction.passes) * 1000, 1)
    if extraction.valid:
        return Outcome(Status.DONE, None, document, classification, extraction, timings)
    return Outcome(
        Status.NEEDS_REVIEW, review_reason(extraction.violations), document, classification,
        extraction,
        timings,
    )


def process_document(
    document_id: uuid.UUID, runtime: Runtime, settings: Settings
) -> Status | None:
    """Process one stored document; returns its final status, or None if it was already done.

    Database errors propagate (the worker retries them); everything about the document itself
    ends in a status with a reason.
    """
    with connect(settings.database_url) as conn:
        claimed = documents.claim(conn, document_id)
        if claimed is None:
            return None
        if claimed["attempts"] > settings.max_attempts:
            # Every earlier attempt died unfinished (its worker killed, out of memory): stop
            # here, or one poison document would take the workers down forever.
            documents.set_status(
                conn, document_id, Status.FAILED,
                f"Processing this document started {claimed['attempts'] - 1} times and never "
                "finished (its worker was killed, e.g. out of memory), so Docket gave up on it "
                f"(DOCKET_MAX_ATTEMPTS={settings.max_attempts}). The original is kept; check "
                f"the worker's memory limit, then `docket reprocess {document_id}`.",
            )
            return Status.FAILED
        # A version promoted since the last document is bound now, without a restart.
        try:
            live_adapters.sync(conn, runtime, settings.model_cache_dir / "adapter-versions")
        except (OSError, ValueError, LookupError) as exc:  # keep serving what is loaded
            log.error("the current adapter versions could not be loaded: %s", exc)
        outcome = run_stages(
            claimed["data"], claimed["filename"], runtime, settings, claimed["type_hint"]
        )
        started = time.perf_counter()
        with conn.transaction():
            if outcome.document is not None:
                documents.save_conversion(conn, document_id, outcome.document)
            documents.set_document_type(conn, document_id, outcome.document_type)
            if outcome.extraction is not None and outcome.classification is not None:
                outcome.timings_ms["store"] = round((time.perf_counter() - started) * 1000, 1)
                records.save_run(
                    conn, document_id, doctypes.get(outcome.extraction.document_type),
                    _run_row(outcome, runtime), outcome.record_json(), outcome.fields_json(),
                )
            documents.set_status(conn, document_id, outcome.status, outcome.error)
        _keep_embedding(conn, document_id, outcome.classification, runtime)
        log.info("document %s → %s %s", document_id, outcome.status, outcome.timings_ms)
        worker_metrics.observe(
            outcome.status, outcome.document_type, outcome.timings_ms,
            outcome.extraction.generation.decode_tokens_per_s if outcome.extraction else None,
            claimed["attempts"])
        return outcome.status


def _keep_embedding(conn: Connection[Any], document_id: uuid.UUID,
                    classification: Classification | None, runtime: Runtime) -> None:
    """Keep the router's vector of a document it could not place (`docket types suggest`
    clusters them); one that has a type now loses an old vector. After the document's own
    transaction and in one of its own, so a failure here is logged and never fails it."""
    if classification is None:  # not converted: nothing was routed
        return
    try:
        with conn.transaction():
            if classification.document_type != doctypes.UNKNOWN:
                embeddings.forget(conn, document_id)
            elif classification.embedding is not None:
                embeddings.save(conn, document_id, runtime.model_sha256, classification.embedding)
    except Exception:  # a bug or outage here must not touch the document's outcome
        log.exception("the router embedding of document %s was not kept", document_id)


def _run_row(outcome: Outcome, runtime: Runtime) -> dict[str, Any]:
    assert outcome.extraction is not None and outcome.classification is not None
    generation = outcome.extraction.generation
    return {
        "model": runtime.name,
        "model_sha256": runtime.model_sha256,
        "adapter": _adapter_label(runtime, generation.adapter),
        "classifier": outcome.classification.method,
        "classifier_confidence": outcome.classification.confidence,
        "timings_ms": outcome.timings_ms,
        "prompt_tokens": generation.prompt_tokens,
        "output_tokens": generation.output_tokens,
        "tokens_per_s": round(generation.decode_tokens_per_s, 2),
        "mean_token_prob": round(generation.mean_probability, 4),
        "finished": generation.finished,
        "raw_output": generation.text,
        "valid": outcome.extraction.valid,
        "violations": outcome.violations_json(),
    }


def _adapter_label(runtime: Runtime, name: str | None) -> str | None:
    """`receipt` for the committed adapter, `receipt@v3` for a promoted version."""
    version = live_adapters.loaded_version(runtime, name) if name else None
    return f"{name}@v{version}" if version else name


def fail_timeout(document_id: uuid.UUID, settings: Settings) -> None:
    """The per-document time limit ran out: say so, keep the bytes."""
    with connect(settings.database_url) as conn:
        documents.set_status(
            conn, document_id, Status.FAILED,
            f"Processing took longer than the {settings.task_soft_time_limit_s} s allowed per "
            "document (DOCKET_TASK_SOFT_TIME_LIMIT_S). The original is kept; raise the limit or "
            f"split the document, then `docket reprocess {document_id}`.",
        )


def fail_unexpectedly(document_id: uuid.UUID, settings: Settings, exc: BaseException) -> None:
    """A bug, not bad input: say so, keep the bytes, let an operator re-run it later."""
    with connect(settings.database_url) as conn:
        documents.set_status(
            conn, document_id, Status.FAILED,
            f"Internal error while processing ({type(exc).__name__}: {exc}). The original is "
            f"kept; re-run it with `docket reprocess {document_id}` once fixed.",
        )
