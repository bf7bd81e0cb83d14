"""`POST /v1/extract`: one file in, its record out in the same response, for a caller who
wants one answer now. The file is stored and queued exactly as an upload is (same dedup, same
workers); the request then waits for a worker to finish it, up to `wait_s`. Past that it
answers 202 with the document's id to poll."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from pipeline import doctypes
from pipeline.api.access import require
from pipeline.api.documents import DocumentView, document_view, receive
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.settings import get_settings
from pipeline.storage.db import connect
from pipeline.storage.documents import UNFINISHED
from pipeline.storage.keys import ApiKey

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)
POLL_S = 0.25  # how often a waiting request looks at the document's status
MAX_WAIT_S = 300


class Pending(BaseModel):
    id: uuid.UUID
    status: str
    detail: str


@router.post("/v1/extract", response_model=DocumentView,
             responses={202: {"model": Pending,
                              "description": "not finished within wait_s: poll Location"}})
async def extract_now(
    key: Annotated[ApiKey, Depends(require("upload"))],
    file: Annotated[UploadFile, File(description="one document")],
    document_type: Annotated[
        str | None, Form(description=f"type hint: {', '.join(doctypes.REGISTRY)}")
    ] = None,
    wait_s: Annotated[float | None, Form(
        ge=0, le=MAX_WAIT_S,
        description="how long to wait for the record (default DOCKET_EXTRACT_WAIT_S, at most "
        "DOCKET_EXTRACT_MAX_WAIT_S)")] = None,
) -> DocumentView | JSONResponse:
    """The document's record, fields (confidence, provenance), status and timings once a
    worker has finished it; 202 with its id if that takes longer than `wait_s`."""
    result = await receive([file], document_type, key, one_document=True)
    document_id = result.stored[0].document_id
    settings = get_settings()
    wait = min(settings.extract_wait_s if wait_s is None else wait_s,
               settings.extract_max_wait_s)
    deadline = time.monotonic() + wait
    while True:
        view = await run_in_threadpool(_view, document_id)
        if view.status not in UNFINISHED:
            return view
        if time.monotonic() >= deadline:
            return JSONResponse(
                Pending(id=document_id, status=view.status, detail=(
                    f"Not finished within {wait:g} s; GET /v1/documents/{document_id} "
                    "gives its record when it is.")).model_dump(mode="json"),
                status_code=202, headers={"Location": f"/v1/documents/{document_id}"})
        await asyncio.sleep(POLL_S)


def _view(document_id: uuid.UUID) -> DocumentView:
    with connect() as conn:
        view = document_view(conn, document_id)
    if view is None:  # erased while we waited
        raise HTTPException(404, f"Document {document_id} was erased.")
    return view
