"""The labelled datasets in `../shared/datasets`: where each document is, its split, its labels,
and its conversion by Docket's own `convert()` (cached, since OCR costs 1–2 s a receipt).

Splits are deterministic and shared by the router, the adapters and `docket eval`, so a dev
figure is always on documents nothing was trained on: SROIE ids sorted, every 5th to dev;
Kleister-NDA's own `train/` and `dev-0/` folders.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import lzma
import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.document import Document
from pipeline.errors import DocumentError
from pipeline.settings import Settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
DATASETS_DIR = ROOT.parent / "shared" / "datasets"
CACHE_DIR = Path.home() / ".cache" / "docket"
DEV_EVERY = 5  # every 5th SROIE id goes to dev
DATASETS = ("sroie", "kleister-nda")


@dataclass(frozen=True)
class Source:
    """One document of a dataset (or of the machine's prose, for the router) before conversion."""

    dataset: str  # "sroie", "kleister-nda", "other-text" or "samples"
    key: str  # id within the dataset
    label: str  # its document type
    split: str  # "train" or "dev"
    path: Path
    filename: str  # the upload name convert() sees (a hint only)
    snippet_chars: int | None = None  # router negatives: cut the converted text to about this
    window: float = 0.0  # > 0: a later window, from this fraction of the text (augmentation)
    labels: dict[str, list[str]] = field(default_factory=dict, compare=False, hash=False)


def sroie_sources(datasets_dir: Path = DATASETS_DIR) -> list[Source]:
    """SROIE receipt scans with their labels (company, date, address, total); every 5th to dev."""
    root = datasets_dir / "sroie"
    images = sorted((root / "images").glob("*.jpg"))
    sources = []
    for i, path in enumerate(images):
        label_path = root / "labels" / f"{path.stem}.json"
        labels = json.loads(label_path.read_text()) if label_path.is_file() else {}
        sources.append(Source(
            "sroie", path.stem, "receipt", "dev" if i % DEV_EVERY == DEV_EVERY - 1 else "train",
            path, path.name, labels={k: [v] for k, v in labels.items() if v},
        ))
    return sources


def kleister_sources(datasets_dir: Path = DATASETS_DIR) -> list[Source]:
    """Kleister-NDA PDFs with their (key, value) labels, split by the dataset's own folders."""
    root = datasets_dir / "kleister-nda"
    sources = []
    for folder, split in (("train", "train"), ("dev-0", "dev")):
        with lzma.open(root / folder / "in.tsv.xz", "rt", encoding="utf-8") as fh:
            names = [row[0] for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]
        expected = root / folder / "expected.tsv"
        lines = expected.read_text(encoding="utf-8").splitlines() if expected.is_file() else []
        for n, name in enumerate(names):
            path = root / "documents" / name
            if not path.is_file():
                continue
            labels: dict[str, list[str]] = {}
            for pair in (lines[n].split() if n < len(lines) else []):
                key, _, value = pair.partition("=")
                labels.setdefault(key, []).append(value.replace("_", " "))
            sources.append(Source("kleister-nda", Path(name).stem, "contract", split, path, name,
                                  labels=labels))
    return sources


def labelled_sources(dataset: str, datasets_dir: Path = DATASETS_DIR) -> list[Source]:
    if dataset == "sroie":
        return sroie_sources(datasets_dir)
    if dataset == "kleister-nda":
        return kleister_sources(datasets_dir)
    raise ValueError(f"Unknown dataset '{dataset}'; choose one of: {', '.join(DATASETS)}")


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
