"""Review: people correct extracted records, and each correction becomes a training example.

`corrections` applies a reviewer's edits (a new run, the audit trail, the training example);
`page` builds what the review page shows of a document. Both reach the database only through
`pipeline.storage`. The names below are the package's interface (`from pipeline.review import
apply_corrections`).
"""

from __future__ import annotations

from pipeline.review.corrections import (
    REVIEWABLE,
    CorrectionError,
    CorrectionResult,
    DocumentNotFound,
    NotReviewable,
    StaleEdit,
    apply_corrections,
    draft_from_output,
    entry_fields,
    leaves,
    validate_draft,
)
from pipeline.review.page import document_page
from pipeline.storage.reviews import Change, history, queue

__all__ = [
    "REVIEWABLE", "Change", "CorrectionError", "CorrectionResult", "DocumentNotFound",
    "NotReviewable", "StaleEdit", "apply_corrections", "document_page", "draft_from_output",
    "entry_fields", "history", "leaves", "queue", "validate_draft",
]
