"""The REST API: upload documents, follow them, query records, review them.

Run with `docket api` (uvicorn). OpenAPI at /docs. Every route but /health/live and
/health/ready needs an API key (see `pipeline.api.access`).
"""

from __future__ import annotations

from fastapi import FastAPI

from pipeline import doctypes
from pipeline.api import (
    documents,
    extract_now,
    health,
    lifecycle,
    metrics,
    records,
    review_api,
    review_pages,
    signin,
    training,
    type_suggestions,
    webhooks,
)

app = FastAPI(
    title="Docket",
    version="0.1.0",
    description=f"Offline document extraction: {', '.join(f'{n}s' for n in doctypes.REGISTRY)} "
    "→ validated records. "
    "Send an API key in the X-API-Key header (`docket keys create --role ROLE --name NAME`).",
)
app.include_router(documents.router)
app.include_router(lifecycle.router)
app.include_router(extract_now.router)
app.include_router(records.router)
app.include_router(review_api.router)
app.include_router(webhooks.router)
app.include_router(training.router)
app.include_router(type_suggestions.router)
app.include_router(signin.router)
app.include_router(review_pages.router)
health.install(app)
metrics.install(app)
