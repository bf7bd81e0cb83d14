"""New kinds of documents, for admins: `GET /v1/types/suggestions` (JSON, admin key) and the
page `/review/types` (an admin's review session), both from `pipeline.new_kinds.suggest`.

Admin only: the groups show file names and first lines of any uploader's documents, and
starting a type is an admin's decision. The API never loads the model, so it clusters the
vectors the workers stored; documents without one are counted as `waiting` (`docket types
suggest` embeds them).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from pipeline.api.access import allowed, require, roles_that_may
from pipeline.api.errors import ERROR_RESPONSES, ErrorAnswer
from pipeline.api.signin import gate
from pipeline.api.templating import templates
from pipeline.classify import RouterError
from pipeline.new_kinds import suggest as new_kinds
from pipeline.new_kinds.cluster import MIN_CLUSTER_SIZE
from pipeline.storage.db import connect
from pipeline.storage.keys import ApiKey

router = APIRouter(tags=["types"], responses=ERROR_RESPONSES)


class Sample(BaseModel):
    id: str
    filename: str
    first_line: str


class Suggestion(BaseModel):
    size: int
    words: list[str]
    samples: list[Sample]
    document_ids: list[str]


class Suggestions(BaseModel):
    unknown_documents: int
    clustered: int
    embedded_now: int
    waiting: int
    noise: int
    min_cluster_size: int
    clusters: list[Suggestion]


MinClusterSize = Annotated[int, Query(ge=2, le=1000,
                                      description="the fewest documents that make a group")]


def _suggestions(min_cluster_size: int) -> new_kinds.Suggestions:
    try:
        with connect() as conn:
            return new_kinds.suggest(conn, None, min_cluster_size)
    except RouterError as exc:
        raise HTTPException(503, str(exc)) from exc


@router.get("/v1/types/suggestions", response_model=Suggestions, responses={
    503: {"model": ErrorAnswer, "description": "no router head for the loaded base model"}})
def type_suggestions(
    _: Annotated[ApiKey, Depends(require("admin"))],
    min_cluster_size: MinClusterSize = MIN_CLUSTER_SIZE,
) -> Suggestions:
    """Groups among the documents the router called unknown: size, common words, samples."""
    return Suggestions.model_validate(_suggestions(min_cluster_size).as_json())


@router.get("/review/types", response_class=HTMLResponse, include_in_schema=False)
def type_suggestions_page(request: Request,
                          min_cluster_size: MinClusterSize = MIN_CLUSTER_SIZE) -> Response:
    session = gate(request)
    if isinstance(session, Response):
        return session
    if not allowed(session.key.role, "admin"):
        return templates.TemplateResponse(
            request, "forbidden.html",
            {"key": session.key, "csrf_token": session.csrf_token,
             "roles": roles_that_may("admin"), "action": "Seeing new kinds of documents",
             "wanted": "an admin"},
            status_code=403)
    return templates.TemplateResponse(request, "types.html", {
        "key": session.key, "csrf_token": session.csrf_token,
        "result": _suggestions(min_cluster_size),
    })
