"""Documents and batches: upload, follow their status, read one document's record."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from pipeline import doctypes
from pipeline.api.access import require
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.api.metrics import UPLOADS
from pipeline.convert import SUPPORTED_MIME_TYPES
from pipeline.errors import DocumentError
from pipeline.extract.provenance import FieldEvidence
from pipeline.ingest import BatchResult, Upload, check_upload, expand_archives, store_uploads
from pipeline.queue import enqueue
from pipeline.settings import get_settings
from pipeline.storage import documents, records
from pipeline.storage.db import connect
from pipeline.storage.documents import Status
from pipeline.storage.keys import ApiKey
from pipeline.webhooks import targets

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)


class UploadedDocument(BaseModel):
    id: uuid.UUID
    filename: str
    duplicate: bool  # the same bytes were uploaded before: no new job


class CallbackWebhook(BaseModel):
    id: uuid.UUID  # its delivery log: GET /v1/webhooks/{id}/deliveries
    secret: str = Field(description="signs each event (Docket-Signature); shown only here")


class UploadResponse(BaseModel):
    batch_id: uuid.UUID
    documents: list[UploadedDocument]
    webhook: CallbackWebhook | None = None


class DocumentBase(BaseModel):
    """What every view of a document shows."""

    id: uuid.UUID
    filename: str
    status: str
    error: str | None
    document_type: str | None
    mime_type: str | None
    pages: int | None


class DocumentView(DocumentBase):
    record: dict[str, Any] | None
    valid: bool | None
    violations: list[dict[str, Any]]
    timings_ms: dict[str, float] | None
    model: str | None
    adapter: str | None = None
    fields: list[FieldEvidence] = Field(
        default_factory=list,
        description="each extracted value with its confidence and where it is in the document",
    )


class BatchView(BaseModel):
    id: uuid.UUID
    counts: dict[str, int]
    total: int
    finished: bool
    documents: list[dict[str, Any]]


@router.post("/v1/documents", status_code=202, response_model=UploadResponse)
async def upload_documents(
    key: Annotated[ApiKey, Depends(require("upload"))],
    files: Annotated[list[UploadFile], File(description="one or more documents")],
    document_type: Annotated[
        str | None, Form(description=f"type hint: {', '.join(doctypes.REGISTRY)}")
    ] = None,
    callback_url: Annotated[str | None, Form(
        description="a URL to POST signed events to: each document's end and the batch's "
        "(see the webhook in the answer)")] = None,
) -> UploadResponse:
    result = await receive(files, document_type, key, callback_url=callback_url)
    hook = result.webhook
    return UploadResponse(
        batch_id=result.batch_id,
        documents=[UploadedDocument(id=s.document_id, filename=s.filename,
                                    duplicate=s.duplicate) for s in result.stored],
        webhook=CallbackWebhook(id=hook.id, secret=hook.secret) if hook else None,
    )


async def receive(files: list[UploadFile], document_type: str | None, key: ApiKey,
                  one_document: bool = False, callback_url: str | None = None) -> BatchResult:
    """Read, check, store and queue uploaded files, as `POST /v1/documents` does for all;
    `one_document`: refuse, before storing anything, an upload that holds more than one."""
    settings = get_settings()
    if document_type is not None and document_type not in doctypes.REGISTRY:
        raise HTTPException(422, f"Unknown document_type '{document_type}'; use one of: "
                            f"{', '.join(doctypes.REGISTRY)}")
    if callback_url is not None and (
            problem := await run_in_threadpool(targets.problem, callback_url, settings)):
        raise HTTPException(422, problem)
    if len(files) > settings.max_files_per_batch:
        raise HTTPException(413, f"At most {settings.max_files_per_batch} files per request.")
    uploads: list[Upload] = []
    for file in files:
        data = await file.read(settings.max_upload_bytes + 1)
        name = file.filename or "upload"
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, f"'{name}' is over the {settings.max_upload_bytes} byte "
                                "limit (DOCKET_MAX_UPLOAD_BYTES).")
        uploads.append(Upload(name, data))
    uploads = expand_archives(uploads, settings)  # a zip's files, as `docket ingest` reads them
    if not uploads:
        raise HTTPException(422, "The upload holds no files (an empty zip archive?).")
    if one_document and len(uploads) > 1:
        raise HTTPException(422, f"One document per call: this upload holds {len(uploads)} "
                            "(send archives to POST /v1/documents).")
    # A request where nothing can be processed is refused outright; in a mixed request the
    # refused files are kept as `failed` documents with their reason and the rest goes on.
    problems = [(u.filename, check_upload(u)) for u in uploads]
    if all(problem for _, problem in problems):
        supported = ", ".join(sorted(SUPPORTED_MIME_TYPES))
        details = " ".join(f"'{name}': {problem}" for name, problem in problems)
        raise HTTPException(415, f"{details} Supported types: {supported}.")
    try:
        with connect() as conn:
            result = store_uploads(conn, uploads, settings, "api", document_type,
                                   key_id=key.id, callback_url=callback_url)
    except DocumentError as exc:
        raise HTTPException(422, str(exc)) from exc
    refused = len(result.refused)  # kept as failed documents, also among `stored`
    UPLOADS.labels("refused").inc(refused)
    UPLOADS.labels("duplicate").inc(len(result.stored) - refused - len(result.to_process))
    UPLOADS.labels("stored").inc(len(result.to_process))
    enqueue(result.to_process)
    return result


@router.get("/v1/documents/{document_id}", response_model=DocumentView,
            dependencies=[Depends(require("read"))])
def get_document(document_id: uuid.UUID) -> DocumentView:
    with connect() as conn:
        view = document_view(conn, document_id)
    if view is None:
        raise HTTPException(404, f"No document {document_id}.")
    return view


def document_view(conn: Any, document_id: uuid.UUID) -> DocumentView | None:
    """A document's status with its latest record and fields; None: no such document."""
    doc = documents.get_document(conn, document_id)
    if doc is None:
        return None
    run = records.latest_run(conn, document_id)
    fields = records.run_fields(conn, run["id"]) if run else []
    return DocumentView(
        id=doc["id"], filename=doc["filename"], status=doc["status"], error=doc["error"],
        document_type=doc["document_type"], mime_type=doc["mime_type"], pages=doc["pages"],
        record=run["record"] if run else None, valid=run["valid"] if run else None,
        violations=run["violations"] if run else [],
        timings_ms=run["timings_ms"] if run else None, model=run["model"] if run else None,
        adapter=run["adapter"] if run else None,
        fields=[FieldEvidence.model_validate(f) for f in fields],
    )


@router.get("/v1/batches/{batch_id}", response_model=BatchView,
            dependencies=[Depends(require("read"))])
def get_batch(batch_id: uuid.UUID) -> BatchView:
    with connect() as conn:
        counts = documents.batch_counts(conn, batch_id)
        if counts is None:
            raise HTTPException(404, f"No batch {batch_id}.")
        docs = documents.batch_documents(conn, batch_id)
    total = sum(counts.values())
    finished = counts[Status.QUEUED] == 0 and counts[Status.PROCESSING] == 0
    return BatchView(id=batch_id, counts=counts, total=total, finished=finished, documents=docs)
