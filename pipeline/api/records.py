"""Analysts' query API: list, filter, sort, page, export and aggregate records (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["records"])
