"""The Celery app on Redis, configured so a killed worker loses nothing.

`acks_late` + `reject_on_worker_lost`: a task is acknowledged only after it finished, so a
worker killed mid-document leaves the message to be redelivered; the database status makes
the redelivery idempotent. One prefetched task per process: documents are long.
"""

from __future__ import annotations

import logging

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown, worker_ready

from pipeline.settings import get_settings

settings = get_settings()

app = Celery("docket", broker=settings.broker_url, include=["workers.tasks"])
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    task_soft_time_limit=settings.task_soft_time_limit_s,
    task_time_limit=settings.task_time_limit_s,
    broker_connection_retry_on_startup=True,
    # Redelivery of an unacknowledged task after this long; longer than any document takes.
    broker_transport_options={"visibility_timeout": settings.task_time_limit_s * 2},
    worker_hijack_root_logger=False,
    # A new pool process loads the model before it reports "up" (~5 s, longer on a busy
    # machine). Celery's 4 s default killed every replacement of a killed process, forever.
    worker_proc_alive_timeout=180,
    # A process that grew past the cap (a leak, a huge document) is replaced after its task.
    worker_max_memory_per_child=settings.worker_max_memory_mb * 1024,  # KiB
)


@worker_process_init.connect
def _load_model(**_: object) -> None:
    """Load the base model once per worker process, before the first document arrives."""
    from pipeline.slm.factory import get_runtime

    logging.getLogger(__name__).info("loading model %s", settings.model)
    get_runtime(settings)


@worker_ready.connect
def _start_sweeper(**_: object) -> None:
    """Queue again, now and every few seconds, what an outage or a dead worker lost
    (see pipeline.sweeper): the batch completes once Redis or Postgres is back."""
    from pipeline import sweeper

    sweeper.start(settings)


@worker_ready.connect
def _serve_metrics(**_: object) -> None:
    """Serve the pool processes' metrics (DOCKET_WORKER_METRICS_PORT; pipeline.worker_metrics)."""
    if settings.worker_metrics_port:
        from pipeline import worker_metrics

        worker_metrics.serve(settings.worker_metrics_port)


@worker_process_shutdown.connect
def _forget_metrics(pid: int | None = None, **_: object) -> None:
    from pipeline import worker_metrics

    if pid is not None:
        worker_metrics.process_died(pid)
