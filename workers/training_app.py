"""The trainer: a Celery app of its own, one process, at the lowest CPU priority, with beat.

Beat asks every `DOCKET_RETRAIN_CHECK_S` whether a type has enough new corrections to
retrain (`pipeline.training.retraining.check`); the run happens here, never in an extraction
worker. One pool process and the `training_runs` lock keep it to one job at a time, and
`nice 19` lets extraction take the cores whenever it needs them. Start it with
`docket training worker`; run one (beat) per deployment.
"""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.signals import worker_process_init

from pipeline.queue import RETRAIN_CHECK_TASK, TRAINING_QUEUE
from pipeline.settings import get_settings
from pipeline.slm.factory import get_runtime
from pipeline.training import retraining

RUN_TIME_LIMIT_S = 6 * 3600

settings = get_settings()
app = Celery("docket-training", broker=settings.broker_url)
app.conf.update(
    task_default_queue=TRAINING_QUEUE,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_prefetch_multiplier=1,
    # A run takes tens of minutes: acknowledged at its start. A trainer killed mid-run leaves
    # its row to go stale (retrain_stale_s), and a later look starts again; a look delivered
    # twice finds the lock held, or nothing to do.
    task_acks_late=False,
    # A run that hangs ends failed (its lock released) rather than holding it for ever.
    task_soft_time_limit=RUN_TIME_LIMIT_S,
    task_time_limit=RUN_TIME_LIMIT_S + 300,
    beat_schedule={
        "retrain-check": {
            "task": RETRAIN_CHECK_TASK,
            "schedule": settings.retrain_check_s,
            # A tick that waited behind a run is stale: the next one comes anyway.
            "options": {"expires": settings.retrain_check_s},
        },
    },
)


@worker_process_init.connect
def _lowest_priority(**_: object) -> None:
    """Training yields the CPU to extraction whenever both want it."""
    os.nice(19 - os.nice(0))
    logging.getLogger(__name__).info("trainer process at nice %d", os.nice(0))


@app.task(name=RETRAIN_CHECK_TASK)
def check() -> str | None:
    outcome = retraining.check(settings, lambda: get_runtime(settings))
    return outcome.status if outcome else None

