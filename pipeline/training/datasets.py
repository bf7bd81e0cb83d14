"""The labelled datasets in `../shared/datasets`, read through Docket's own `convert()`.

Each dataset is declared by its type's package (`pipeline.doctypes.<type>`): where its files
are, its splits, its labels and its scorer. This module finds them by name or by a folder's
layout, and converts their documents as production would, cached on disk (OCR is slow).
Splits are deterministic and shared by the router, the adapters and `docket eval`, so a dev
figure is always on documents nothing was trained on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from pipeline import doctypes
from pipeline.doctypes import Dataset, Source
from pipeline.document import Document
from pipeline.errors import DocumentError
from pipeline.settings import Settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DATASETS_DIR = ROOT.parent / "shared" / "datasets"
CACHE_DIR = Path.home() / ".cache" / "docket"


def labelled_sources(name: str, datasets_dir: Path = DATASETS_DIR) -> list[Source]:
    """Every document of a registered dataset, with its labels and split."""
    data = doctypes.dataset(name)
    return data.sources(data.path(datasets_dir))


def dataset_in(folder: Path) -> Dataset:
    """The registered dataset whose layout this folder has; a clear error if none has it."""
    for data in doctypes.DATASETS.values():
        if data.looks_like(folder):
            return data
    known = "; ".join(f"{d.name} ({d.description})" for d in doctypes.DATASETS.values())
    raise ValueError(f"{folder} is not in the layout of any registered dataset: {known}. "
                     "See ../shared/datasets/README.md for each layout, or pass a dataset's "
                     "name instead of a folder.")


def resolve(name_or_folder: str, datasets_dir: Path = DATASETS_DIR) -> tuple[Dataset, Path]:
    """`--data`: a registered dataset's name (read from `datasets_dir`) or a folder."""
    if name_or_folder in doctypes.DATASETS:
        data = doctypes.DATASETS[name_or_folder]
        return data, data.path(datasets_dir)
    folder = Path(name_or_folder)
    if not folder.is_dir():
        known = ", ".join(doctypes.DATASETS)
        raise ValueError(f"'{name_or_folder}' is neither a registered dataset ({known}) nor a "
                         "folder.")
    return dataset_in(folder), folder


def convert_cached(data: bytes, filename: str, settings: Settings,
                   cache_dir: Path = CACHE_DIR) -> Document | None:
    """Docket's `convert()` of the bytes, cached on disk; None if convert() refuses the file.

    Keyed by the bytes, the upload name, the settings that change the route and the route's
    version, so a cached conversion is exactly what production would produce.
    """
    from pipeline.convert import ROUTE_VERSIONS, convert, sniff_mime

    route = f"{settings.ocr_dpi}:{settings.docling_artifacts_path is not None}"
    try:
        version = ROUTE_VERSIONS.get(sniff_mime(data, filename), 1)
    except DocumentError:  # convert() refuses it below, with its reason
        version = 1
    if version > 1:  # version 1 keys stay as they were
        route += f":v{version}"
    key = hashlib.sha256(data + b"\0" + filename.encode() + b"\0" + route.encode()).hexdigest()
    path = cache_dir / "converted" / f"{key}.json"
    if path.is_file():
        cached = json.loads(path.read_text())
        return None if cached is None else Document.model_validate(cached)
    try:
        document: Document | None = convert(data, filename, settings)
    except DocumentError as exc:
        log.info("convert() refused %s: %s", filename, exc)
        document = None
    write_atomic(path, json.dumps(document.model_dump(mode="json") if document else None).encode())
    return document


def convert_source(source: Source, settings: Settings,
                   cache_dir: Path = CACHE_DIR) -> Document | None:
    return convert_cached(source.path.read_bytes(), source.filename, settings, cache_dir)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
