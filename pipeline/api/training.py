"""Retraining runs: what the trainer is doing and how its runs ended; an admin may ask for one.

The trainer (`docket training worker`) starts runs by itself when enough corrections arrived
(see `pipeline.training.retraining`); these routes only read the `training_runs` table and
send the trainer a request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from pipeline import doctypes
from pipeline.api.access import require
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.queue import wake_trainer
from pipeline.storage import training_runs
from pipeline.storage.db import connect
from pipeline.storage.keys import ApiKey

router = APIRouter(tags=["training"], responses=ERROR_RESPONSES)


class TrainingRun(BaseModel):
    id: int
    adapter: str
    status: Literal["requested", "running", "promoted", "refused", "failed"]
    stage: str = Field(description="waiting for the trainer (requested), queued, scrubbing, "
                       "training, evaluating, finished")
    progress: dict[str, Any] = Field(
        description="the stage's progress: step, total, loss (training); comparing, step, "
        "total (evaluating)")
    stage_seconds: dict[str, float] = Field(description="how long each stage took so far")
    triggered_by: str
    corrections: int | None = Field(description="new corrections that started it")
    version: int | None = Field(description="the adapter version it trained")
    reason: str | None = Field(description="why it was promoted, refused or failed")
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class RunRequest(BaseModel):
    adapter: str = Field(description="the adapter to retrain now: "
                         + ", ".join(doctypes.adapters()))


@router.get("/v1/training/runs", response_model=list[TrainingRun])
def runs(
    _: Annotated[ApiKey, Depends(require("review"))],
    adapter: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[TrainingRun]:
    """The latest retraining runs, newest first; a running one says its stage and progress."""
    with connect() as conn:
        return [TrainingRun(**row) for row in training_runs.listing(conn, adapter, limit)]


@router.post("/v1/training/runs", status_code=202)
def request_run(body: RunRequest,
                key: Annotated[ApiKey, Depends(require("admin"))]) -> dict[str, Any]:
    """Ask the trainer to retrain an adapter now, whatever the window and the count of new
    corrections: a `requested` run, which the trainer takes on its next look once no other
    run is running (one request per adapter: asking again while one waits adds none).
    Follow it in GET /v1/training/runs."""
    if body.adapter not in doctypes.adapters():
        raise HTTPException(422, f"No adapter '{body.adapter}'.")
    with connect() as conn:
        new = training_runs.request(conn, body.adapter, f"key {key.name}")
    wake_trainer()
    return {"requested": body.adapter, "already_waiting": not new}
