"""The router on the real base model and the committed head (adapters/router/)."""

from __future__ import annotations

import json
import lzma
import shutil
from pathlib import Path

import pytest

from pipeline import doctypes
from pipeline.classify import (
    MANIFEST,
    ROUTER_DIR,
    RouterError,
    classify,
    get_head,
    load_head,
)
from pipeline.convert import convert
from pipeline.doctypes.invoice import generator, render
from pipeline.doctypes.invoice.generated import DEV_SEED, LOOKALIKES
from pipeline.document import Document, Line, Page
from pipeline.settings import Settings
from pipeline.slm.runtime import Runtime

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "documents"
DATASETS = ROOT.parent / "shared" / "datasets"
needs_datasets = pytest.mark.skipif(not DATASETS.is_dir(), reason=f"no datasets at {DATASETS}")

PROSE = (
    "The lighthouse keeper had not seen a ship in eleven days. Each morning he climbed the "
    "ninety-one steps, wiped the salt from the great lens and wrote the weather into his "
    "log: wind from the west, a low grey sky, gulls on the rocks below. In the afternoons he "
    "read the letters his sister sent from the city, slowly, because there were only a few "
    "of them and the winter was long. When the fog came in he lit the lamp early and "
    "listened for the horn of a boat that never came."
)


def _text_document(text: str) -> Document:
    lines = [Line(text=line) for line in text.splitlines() if line.strip()]
    return Document(pages=[Page(number=1, lines=lines)], converter="text", mime_type="text/plain")


@pytest.mark.parametrize("path", sorted(SAMPLES.iterdir()), ids=lambda p: p.name)
def test_samples_route_to_their_type(path: Path, runtime: Runtime, settings: Settings) -> None:
    document = convert(path.read_bytes(), path.name, settings)
    result = classify(document, runtime)
    assert result.method == "router"
    assert result.document_type == path.name.split("-", 1)[0], result
    assert 0.0 <= result.confidence <= 1.0 and result.seconds > 0


def _sroie_dev_ids(n: int) -> list[str]:
    """A few ids of the router's SROIE dev split (ids sorted, every 5th) — never trained on."""
    ids = sorted(p.stem for p in (DATASETS / "sroie" / "images").glob("*.jpg"))
    return ids[4::5][:: max(1, len(ids[4::5]) // n)][:n]


def _kleister_dev_files(n: int) -> list[str]:
    with lzma.open(DATASETS / "kleister-nda" / "dev-0" / "in.tsv.xz", "rt") as fh:
        names = [line.split("\t", 1)[0] for line in fh]
    return names[:: max(1, len(names) // n)][:n]


@needs_datasets
def test_sroie_dev_receipts_route_to_receipt(runtime: Runtime, settings: Settings) -> None:
    for sroie_id in _sroie_dev_ids(3):
        path = DATASETS / "sroie" / "images" / f"{sroie_id}.jpg"
        result = classify(convert(path.read_bytes(), path.name, settings), runtime)
        assert result.document_type == "receipt", (sroie_id, result)


@needs_datasets
def test_kleister_dev_contracts_route_to_contract(runtime: Runtime, settings: Settings) -> None:
    for name in _kleister_dev_files(3):
        path = DATASETS / "kleister-nda" / "documents" / name
        result = classify(convert(path.read_bytes(), path.name, settings), runtime)
        assert result.document_type == "contract", (name, result)


@needs_datasets
def test_dev_datasheets_route_to_datasheet_as_markdown_and_pdf(runtime: Runtime,
                                                               settings: Settings) -> None:
    for name in ("uno-r4-minima.md", "nano-matter.pdf"):  # dev products
        path = DATASETS / "manuals" / "documents" / name
        result = classify(convert(path.read_bytes(), path.name, settings), runtime)
        assert result.document_type == "datasheet", (name, result)


def test_generated_invoices_route_to_invoice_and_look_alikes_do_not(
        runtime: Runtime, settings: Settings) -> None:
    """Dev invoices (seeds no router trained on) go to the invoice adapter; a purchase order
    and a quotation laid out like invoices (dev look-alikes) do not."""
    for seed in (DEV_SEED + 1, DEV_SEED + 6):  # a German scan, a US text PDF
        content, ext = render.render(generator.make(seed), seed)
        result = classify(convert(content, f"invoice.{ext}", settings), runtime)
        assert result.document_type == "invoice", (seed, result)
    for kind, first in LOOKALIKES.items():
        seed = first + 3  # n % 4 == 3: the look-alikes' dev split
        content, ext = render.render(generator.make(seed, kind), seed)
        result = classify(convert(content, f"{kind}.{ext}", settings), runtime)
        assert result.document_type != "invoice", (kind, result)


def test_prose_routes_to_unknown(runtime: Runtime) -> None:
    result = classify(_text_document(PROSE), runtime)
    assert result.document_type == "unknown", result
    assert result.method == "router"


def test_hint_overrides_the_router(runtime: Runtime) -> None:
    result = classify(_text_document(PROSE), runtime, hint="contract")
    assert (result.document_type, result.confidence, result.method) == ("contract", 1.0, "hint")


def test_committed_head_is_small_and_described() -> None:
    manifest = json.loads((ROUTER_DIR / MANIFEST).read_text())
    assert manifest["classes"] == [*doctypes.REGISTRY, "unknown"]
    assert 0.0 < manifest["threshold"] < 1.0
    assert sum(p.stat().st_size for p in ROUTER_DIR.iterdir()) < 100_000


def test_missing_head_says_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(RouterError, match="docket router train"):
        load_head(tmp_path)


def test_head_for_other_weights_is_refused(tmp_path: Path, runtime: Runtime) -> None:
    for path in ROUTER_DIR.iterdir():
        shutil.copy(path, tmp_path / path.name)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["model_sha256"] = "0" * 64
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(RouterError, match="trained on"):
        load_head(tmp_path).check_runtime(runtime)
    get_head().check_runtime(runtime)  # the committed head fits the loaded model
