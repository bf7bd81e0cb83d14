"""Analysts' query API: list, filter, sort, page, export and aggregate records.

Reads the `analytics` views through `pipeline.storage.analytics`, so the API,
`docket export` and SQL written by hand against the views all agree. Every route needs a key
with the `query` permission (analyst or admin).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, create_model

from pipeline import doctypes
from pipeline.analytics import exports
from pipeline.api.access import require
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.doctypes import Aggregate, DocType
from pipeline.extract.provenance import FieldEvidence
from pipeline.storage import analytics as query
from pipeline.storage.analytics import QueryError, RecordQuery
from pipeline.storage.db import connect

router = APIRouter(tags=["records"], dependencies=[Depends(require("query"))],
                   responses=ERROR_RESPONSES)

QUERYABLE = [name for name, t in doctypes.REGISTRY.items() if t.query is not None]
_CONFIGS = [t.query for t in doctypes.REGISTRY.values() if t.query is not None]
# The response unions hold every queryable type's rows (each row model has every column
# required, so a row can only validate as its own type's).
if TYPE_CHECKING:
    AnyRow = BaseModel
    AnyRows = list[BaseModel]
    AnyChildren = list[BaseModel]
else:
    AnyRow = Union[tuple(c.row_model for c in _CONFIGS)]  # noqa: UP007
    AnyRows = Union[tuple(list[c.row_model] for c in _CONFIGS)]  # noqa: UP007
    AnyChildren = Union[tuple(list[c.child_model] for c in _CONFIGS)]  # noqa: UP007
VIEWS = ", ".join(f"analytics.{c.view}" for c in _CONFIGS)
CHILDREN = ", ".join(f"analytics.{c.children_view}" for c in _CONFIGS)
DocTypeName = Annotated[str, Path(description=f"document type: {', '.join(QUERYABLE)}")]
Filters = Annotated[RecordQuery, Query()]


class RecordPage(BaseModel):
    document_type: str
    items: AnyRows = Field(description=f"rows of one of {VIEWS}")
    total: int = Field(description="rows matching the filters, all pages")
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last")


class RunInfo(BaseModel):
    id: int
    created_at: dt.datetime
    model: str
    adapter: str | None
    source: str = Field(description="model, or review: a reviewer's correction")
    reviewer: str | None
    valid: bool
    violations: list[dict[str, Any]]


class RecordDetail(BaseModel):
    document_type: str
    record: AnyRow
    children: AnyChildren = Field(
        description=f"the record's list rows ({CHILDREN}), in document order")
    run: RunInfo | None = Field(description="the latest extraction run")
    fields: list[FieldEvidence] = Field(
        description="the latest run's values with confidence and where they are in the document")


def _doctype(name: str) -> DocType:
    doctype = doctypes.REGISTRY.get(name)
    if doctype is None or doctype.query is None:
        raise HTTPException(404, f"Unknown document type '{name}'; known types: "
                            f"{', '.join(QUERYABLE)}.")
    return doctype


def _next(offset: int, limit: int, count: int, total: int) -> int | None:
    return offset + count if offset + count < total and count else None


@router.get("/v1/records/{doc_type}", response_model=RecordPage)
def list_records(doc_type: DocTypeName, filters: Filters) -> dict[str, Any]:
    """One page of records matching the filters, with the total count."""
    doctype = _doctype(doc_type)
    try:
        with connect() as conn:
            rows, total = query.list_records(conn, doctype, filters)
    except QueryError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"document_type": doctype.name, "items": rows, "total": total,
            "limit": filters.limit, "offset": filters.offset,
            "next_offset": _next(filters.offset, filters.limit, len(rows), total)}


@router.get("/v1/records/{doc_type}/export",
            responses={200: {"content": {t: {} for t in exports.FORMATS.values()},
                             "description": "every matching record (limit/offset ignored)"}})
def export_records(
    doc_type: DocTypeName, filters: Filters,
    format: Annotated[Literal["csv", "parquet"], Query(description="file format")] = "csv",
) -> StreamingResponse:
    """Every matching record as CSV or Parquet, streamed as it is read (limit and offset are
    ignored; the filters and sort apply)."""
    doctype = _doctype(doc_type)
    try:
        query.validate(doctype, filters)
    except QueryError as exc:
        raise HTTPException(422, str(exc)) from exc
    writer = exports.write_csv if format == "csv" else exports.write_parquet

    def body() -> Iterator[bytes]:
        with connect() as conn:
            yield from writer(query.columns(conn, doctype),
                              query.iter_rows(conn, doctype, filters))

    assert doctype.query is not None
    filename = f"{doctype.query.view}-{dt.date.today():%Y%m%d}.{format}"
    return StreamingResponse(body(), media_type=exports.FORMATS[format],
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/v1/records/{doc_type}/{document_id}", response_model=RecordDetail)
def get_record(doc_type: DocTypeName, document_id: uuid.UUID) -> dict[str, Any]:
    """One record with its items or parties, and each field's confidence and provenance."""
    doctype = _doctype(doc_type)
    with connect() as conn:
        found = query.get_record(conn, doctype, document_id)
    if found is None:
        raise HTTPException(404, f"No {doctype.name} record for document {document_id}: it "
                            "does not exist, is another type, or has no extracted record yet.")
    return {"document_type": doctype.name, **found}


def _add_aggregate_route(doctype: DocType, agg: Aggregate) -> None:
    """GET /v1/aggregates/<view>/<name>: one page of a type's aggregate (declared by its
    package) over the records matching the filters."""
    assert doctype.query is not None
    row: Any = agg.row_model
    page = create_model(f"{agg.name.title()}Page", items=(list[row], ...),
                        total=(int, Field(description="groups in all")), limit=(int, ...),
                        offset=(int, ...), next_offset=(int | None, ...))

    def route(filters: Filters) -> dict[str, Any]:
        try:
            with connect() as conn:
                rows, total = query.aggregate(conn, doctype, agg, filters)
        except QueryError as exc:
            raise HTTPException(422, str(exc)) from exc
        return {"items": rows, "total": total, "limit": filters.limit,
                "offset": filters.offset,
                "next_offset": _next(filters.offset, filters.limit, len(rows), total)}

    route.__name__ = f"{doctype.query.view}_{agg.name}"
    route.__doc__ = f"{agg.description} Sortable: {', '.join(agg.sortable)}."
    router.add_api_route(f"/v1/aggregates/{doctype.query.view}/{agg.name}", route,
                         methods=["GET"], response_model=page)


for _doctype_with_query in doctypes.REGISTRY.values():
    for _agg in _doctype_with_query.query.aggregates if _doctype_with_query.query else ():
        _add_aggregate_route(_doctype_with_query, _agg)
