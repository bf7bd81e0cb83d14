"""Handing document ids to the workers through Celery, without importing the worker code.

The API and CLI only *send* tasks; `workers/` registers the task under the same name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import lru_cache

from celery import Celery

from pipeline.settings import get_settings

PROCESS_TASK = "docket.process_document"
TRAINING_QUEUE = "docket.training"  # the trainer's own queue (workers/training_app.py)
RETRAIN_CHECK_TASK = "docket.retrain_check"


@lru_cache
def _client() -> Celery:
    return Celery("docket-client", broker=get_settings().broker_url)


def enqueue(document_ids: Iterable[uuid.UUID]) -> int:
    count = 0
    for document_id in document_ids:
        _client().send_task(PROCESS_TASK, args=[str(document_id)])
        count += 1
    return count


def wake_trainer() -> None:
    """Have the trainer look now (for a request in `training_runs`) rather than at its next
    scheduled look; a lost or repeated message changes nothing."""
    _client().send_task(RETRAIN_CHECK_TASK, queue=TRAINING_QUEUE)
