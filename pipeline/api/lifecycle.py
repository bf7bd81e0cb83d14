"""The document lifecycle: list documents and batches, fetch an original back, process a
document again, erase one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel

from pipeline.api.access import require
from pipeline.api.documents import DocumentBase
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.queue import enqueue
from pipeline.storage import documents, lifecycle
from pipeline.storage.db import connect
from pipeline.storage.documents import UNFINISHED, Status
from pipeline.storage.keys import ApiKey

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)
PAGE_LIMIT = 500


class DocumentSummary(DocumentBase):
    size: int
    uploaded_at: datetime
    updated_at: datetime
    original_erased: bool  # by the retention rule: the record stays, the bytes are gone


class DocumentPage(BaseModel):
    total: int  # documents matching the filters, on every page
    limit: int
    offset: int
    documents: list[DocumentSummary]


class BatchSummary(BaseModel):
    id: uuid.UUID
    source: str
    created_at: datetime
    counts: dict[str, int]
    total: int
    finished: bool


class BatchPage(BaseModel):
    total: int
    limit: int
    offset: int
    batches: list[BatchSummary]


Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT, description="at most this many per page")]
Offset = Annotated[int, Query(ge=0, le=10**12, description="skip this many (newest first)")]


@router.get("/v1/documents", response_model=DocumentPage,
            dependencies=[Depends(require("read"))])
def list_documents(
    status: Status | None = None,
    document_type: str | None = None,
    batch_id: uuid.UUID | None = None,
    uploaded_from: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    uploaded_to: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DocumentPage:
    """Documents, newest first, filtered by status, type, batch and upload time."""
    where = lifecycle.DocumentFilter(status, document_type, batch_id, uploaded_from,
                                     uploaded_to)
    with connect() as conn:
        rows, total = lifecycle.list_documents(conn, where, limit, offset)
    return DocumentPage(total=total, limit=limit, offset=offset,
                        documents=[DocumentSummary.model_validate(r) for r in rows])


@router.get("/v1/batches", response_model=BatchPage, dependencies=[Depends(require("read"))])
def list_batches(
    created_from: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    created_to: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> BatchPage:
    """Batches, newest first, with their documents counted by status."""
    with connect() as conn:
        rows, total = lifecycle.list_batches(conn, limit, offset, created_from, created_to)
    batches = []
    for row in rows:
        counts = row["counts"]
        batches.append(BatchSummary(
            id=row["id"], source=row["source"], created_at=row["created_at"], counts=counts,
            total=sum(counts.values()),
            finished=not any(counts[s] for s in UNFINISHED)))
    return BatchPage(total=total, limit=limit, offset=offset, batches=batches)


@router.get("/v1/documents/{document_id}/original", dependencies=[Depends(require("read"))],
            response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "the uploaded bytes, as an attachment"},
                       410: {"description": "erased by the retention rule"}})
def get_original(document_id: uuid.UUID) -> Response:
    """The bytes as uploaded, with their content type, as an attachment."""
    with connect() as conn:
        doc = documents.get_document(conn, document_id)
        found = documents.original(conn, document_id) if doc else None
    if doc is None or found is None:
        raise HTTPException(404, f"No document {document_id}.")
    data, mime_type = found
    if data is None:
        raise HTTPException(410, f"The original of {document_id} was erased by the retention "
                            "rule (DOCKET_RETENTION_DAYS); its record is kept.")
    name = doc["filename"].rsplit("!", 1)[-1].rsplit("/", 1)[-1] or "original"
    fallback = name.encode("ascii", "replace").decode().replace('"', "'")
    return Response(data, media_type=mime_type or "application/octet-stream", headers={
        "Content-Disposition":
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"})


@router.post("/v1/documents/{document_id}/reprocess", status_code=202,
             response_model=DocumentSummary, dependencies=[Depends(require("upload"))])
def reprocess(document_id: uuid.UUID) -> DocumentSummary:
    """Process a finished document again (after a new adapter, say); its record is replaced,
    not duplicated."""
    with connect() as conn, conn.transaction():
        status = documents.lock(conn, document_id)
        if status is None:
            raise HTTPException(404, f"No document {document_id}.")
        if status in UNFINISHED:
            raise HTTPException(409, f"Document {document_id} is {status} already: wait for it "
                                "to finish before processing it again.")
        found = documents.original(conn, document_id)
        if found is None or found[0] is None:
            raise HTTPException(409, f"The original of {document_id} was erased by the "
                                "retention rule: it cannot be processed again.")
        documents.requeue(conn, document_id)
    enqueue([document_id])
    with connect() as conn:
        rows, _ = lifecycle.list_documents(
            conn, lifecycle.DocumentFilter(document_id=document_id), 1, 0)
    return DocumentSummary.model_validate(rows[0])


@router.delete("/v1/documents/{document_id}", status_code=204, response_class=Response)
def erase(document_id: uuid.UUID,
          key: Annotated[ApiKey, Depends(require("admin"))]) -> Response:
    """Erase the document: its bytes, conversion text, runs, records, fields, corrections and
    training example. The audit trail keeps who erased which id and when, without content."""
    with connect() as conn:
        if not lifecycle.erase_document(conn, document_id, key.name, key.id):
            raise HTTPException(404, f"No document {document_id}.")
    return Response(status_code=204)
