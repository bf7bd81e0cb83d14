"""The corrections API: correct a document's values, read its audit trail.

Saving goes API → `pipeline.review` (what an edit means, validation) → storage; the routes
only translate the review errors into HTTP answers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from pipeline import review
from pipeline.api.access import require
from pipeline.api.documents import DocumentView
from pipeline.api.documents import get_document as document_view
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.storage import documents
from pipeline.storage.db import connect
from pipeline.storage.keys import ApiKey

router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)


class CorrectionRequest(BaseModel):
    edits: dict[str, str | None] = Field(
        description="field path → corrected value as printed ('total', 'items[0].amount'); "
        "empty or null clears it"
    )
    run_id: int | None = Field(
        default=None, description="the run these edits were made against; if it is no longer "
        "the latest, the request is refused with 409 instead of overwriting newer values"
    )


class CorrectionView(BaseModel):
    id: int
    path: str
    old_value: str | None
    new_value: str | None
    reviewer: str
    key_id: uuid.UUID | None
    run_id: int
    new_run_id: int
    created_at: dt.datetime


def _corrections_error(exc: Exception) -> HTTPException:
    if isinstance(exc, review.CorrectionError):
        return HTTPException(422, {"message": str(exc), "fields": exc.problems})
    if isinstance(exc, review.StaleEdit):
        return HTTPException(409, str(exc))
    if isinstance(exc, review.NotReviewable):
        return HTTPException(404 if isinstance(exc, review.DocumentNotFound) else 409, str(exc))
    raise exc


@router.post("/v1/documents/{document_id}/corrections", response_model=DocumentView)
def correct_document(
    document_id: uuid.UUID, body: CorrectionRequest,
    key: Annotated[ApiKey, Depends(require("review"))],
) -> DocumentView:
    """Correct values of the document's latest run; returns the re-validated document."""
    try:
        with connect() as conn:
            review.apply_corrections(conn, document_id, body.edits, key, body.run_id)
    except (review.CorrectionError, review.StaleEdit, review.NotReviewable) as exc:
        raise _corrections_error(exc) from exc
    return document_view(document_id)


@router.get("/v1/documents/{document_id}/corrections", response_model=list[CorrectionView],
            dependencies=[Depends(require("review"))])
def list_corrections(document_id: uuid.UUID) -> list[CorrectionView]:
    """The audit trail: every corrected value, newest first."""
    with connect() as conn:
        if documents.get_document(conn, document_id) is None:
            raise HTTPException(404, f"No document {document_id}.")
        return [CorrectionView.model_validate(row) for row in review.history(conn, document_id)]
