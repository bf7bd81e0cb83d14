"""The one task: process a stored document. Transient errors retry with backoff."""

from __future__ import annotations

import uuid

import psycopg
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from pipeline import worker_metrics
from pipeline.errors import TransientError
from pipeline.process import fail_timeout, fail_unexpectedly, process_document
from pipeline.queue import PROCESS_TASK
from pipeline.slm.factory import get_runtime
from pipeline.storage.documents import Status
from pipeline.sweeper import RETRY_BACKOFF_MAX_S
from workers.celery_app import app, settings


@app.task(
    name=PROCESS_TASK,
    bind=True,
    autoretry_for=(TransientError, psycopg.OperationalError),
    retry_backoff=2,
    retry_backoff_max=RETRY_BACKOFF_MAX_S,
    retry_jitter=True,
    max_retries=settings.task_max_retries,
)
def process(self: Task, document_id: str) -> str | None:
    doc_id = uuid.UUID(document_id)
    try:
        return process_document(doc_id, get_runtime(settings), settings)
    except (TransientError, psycopg.OperationalError):
        worker_metrics.RETRIES.inc()
        if self.request.retries >= settings.task_max_retries:
            fail_unexpectedly(doc_id, settings, RuntimeError("gave up after retries"))
        raise
    except Exception as exc:  # a bug: the document must not stay 'processing' forever
        worker_metrics.DOCUMENTS.labels(Status.FAILED, "").inc()
        if _time_limit(exc):
            fail_timeout(doc_id, settings)
            return Status.FAILED
        fail_unexpectedly(doc_id, settings, exc)
        raise


def _time_limit(exc: BaseException | None) -> bool:
    """Whether the time limit is what ended the document. ONNX Runtime (OCR, the model) turns
    an exception raised while it runs into its own error, keeping only the text."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, SoftTimeLimitExceeded) or SoftTimeLimitExceeded.__name__ in str(exc):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
