"""The webhook worker: a Celery app of its own, on its own queue, with a pool of threads.

Deliveries wait on receivers, not on the CPU, so they run in threads (`DOCKET_WEBHOOK_
CONCURRENCY`) in a process that never loads the model, apart from the extraction workers: a
slow or dead receiver never holds up a document. Start it with `docket webhooks worker`.
"""

from __future__ import annotations

import uuid

from celery import Celery
from celery.signals import worker_ready

from pipeline.settings import get_settings
from pipeline.webhooks import delivery

WEBHOOK_QUEUE = "docket.webhooks"
DELIVER_TASK = "docket.deliver_webhook"

settings = get_settings()
app = Celery("docket-webhooks", broker=settings.broker_url)
app.conf.update(
    task_default_queue=WEBHOOK_QUEUE,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name=DELIVER_TASK)
def deliver(delivery_id: str) -> str | None:
    return delivery.attempt(uuid.UUID(delivery_id), settings)


@worker_ready.connect
def _start_dispatcher(**_: object) -> None:
    delivery.start_dispatcher(settings, lambda delivery_id: deliver.delay(str(delivery_id)))
