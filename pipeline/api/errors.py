"""The one shape of every error answer, documented for each route in OpenAPI.

`detail` is a sentence saying what went wrong and what to do; FastAPI's request validation
lists each problem instead, and a refused correction names its fields. Documenting the union
keeps the OpenAPI description true to what clients receive.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorAnswer(BaseModel):
    detail: str | list[dict[str, Any]] | dict[str, Any]


_WHY = {
    400: "a body that is not valid JSON or form data",
    401: "no API key, or a wrong or revoked one",
    403: "the key's role may not do this",
    404: "no such document, batch, record or type",
    409: "the request conflicts with the document's current state",
    413: "too large: a file over the size limit, or too many files",
    415: "no file is a supported document",
    422: "a parameter or value Docket cannot use; `detail` says which",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorAnswer, "description": why} for status, why in _WHY.items()
}
