"""Adapters: training targets, a real (tiny) training run, loading and switching, evaluation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from pipeline import doctypes
from pipeline.doctypes.contract.kleister import as_stated, date_as_stated
from pipeline.doctypes.receipt import synthetic
from pipeline.slm.runtime import Runtime
from pipeline.slm.torch_runtime import TorchRuntime
from pipeline.training.datasets import DATASETS_DIR, labelled_sources
from pipeline.training.lora import encode
from pipeline.training.targets import draft_target

ROOT = Path(__file__).resolve().parents[1]
needs_datasets = pytest.mark.skipif(not (DATASETS_DIR / "sroie").is_dir(),
                                    reason="../shared/datasets is not beside the checkout")


def _docket(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_targets_are_the_compact_json_the_grammar_writes() -> None:
    made = synthetic.receipt(7)
    target = draft_target(doctypes.get("receipt"), made.labels, set(), made.key, "prompt")
    assert json.loads(target.text) == made.labels
    assert target.text == json.dumps(json.loads(target.text), ensure_ascii=False)
    assert all(piece.scored for piece in target.pieces)


def test_unlabelled_fields_carry_no_loss() -> None:
    from transformers import AutoTokenizer

    from pipeline.settings import get_settings
    from pipeline.slm.models import prepare

    settings = get_settings()
    tokenizer = AutoTokenizer.from_pretrained(  # training's tokenizer
        str(prepare(settings.model, settings.model_cache_dir).path))
    draft, unscored = doctypes.dataset("sroie").target(
        {"company": ["ACME SDN BHD"], "total": ["9.90"]}, "")
    target = draft_target(doctypes.get("receipt"), draft, unscored, "x", "Receipt:\nACME\n\nJSON: ")
    assert list(json.loads(target.text)) == list(doctypes.get("receipt").draft_model.model_fields)
    learned = tokenizer.decode(encode(target, tokenizer, 512).labels)
    assert '"ACME SDN BHD"' in learned and '"9.90"' in learned
    # address and date are SROIE fields (null here is a lesson); currency, subtotal, tax,
    # payment and items are not labelled by SROIE, so their values teach nothing.
    assert learned.count("null") == 2 and "[]" not in learned


def test_kleister_values_are_spelled_as_the_document_does() -> None:
    text = "This Agreement is made as of March 3, 2019 by NIKE, Inc. and Eric Dean Sprunk."
    assert as_stated("Nike Inc.", text) == "NIKE Inc."
    assert as_stated("Unknown Party LLC", text) == "Unknown Party LLC"
    assert date_as_stated("2019-03-03", text) == "March 3, 2019"
    assert date_as_stated("2020-01-01", text) == "2020-01-01"
    draft, unscored = doctypes.dataset("kleister-nda").target(
        {"party": ["Nike Inc."], "term": ["2 years"]}, text)
    assert draft["parties"] == [{"name": "NIKE Inc.", "role": None, "aliases": []}]
    assert "clauses" in unscored  # CUAD teaches the clauses, Kleister says nothing of them
    assert draft["jurisdiction"] is None and "jurisdiction" not in unscored  # absent = null


@needs_datasets
def test_dataset_splits_are_stable_and_labelled() -> None:
    receipts = labelled_sources("sroie")
    contracts = labelled_sources("kleister-nda")
    assert sum(s.split == "dev" for s in receipts) == len(receipts) // 5
    assert all(s.labels.get("total") for s in receipts[:20])
    assert {s.split for s in contracts} == {"train", "dev"}
    assert all(s.labels.get("party") for s in contracts if s.split == "dev")


@needs_datasets
def test_train_refuses_a_folder_of_the_other_type() -> None:
    result = _docket("adapters", "train", "--type", "contract", "--data",
                     str(DATASETS_DIR / "sroie"), timeout=120)
    assert result.returncode == 2 and "labels receipts, not contracts" in result.stderr
    by_name = _docket("adapters", "train", "--type", "contract", "--data", "sroie", timeout=120)
    assert by_name.returncode == 2 and "labels receipts, not contracts" in by_name.stderr


@needs_datasets
def test_one_type_learns_from_several_datasets_each_on_its_own_fields(settings: Any) -> None:
    """`--data kleister-nda --data cuad`: targets of both, each dataset's unlabelled fields
    out of its loss; a dataset of another type in the list is refused."""
    from pipeline.training.job import plan

    job = plan(None, ["kleister-nda", "cuad:1"], False, False, None, 1, settings)
    main = [t for t in job.targets if t.focus is None]
    assert job.doc_type == "contract" and len(main) == 2
    assert [s["dataset"] for s in job.summary["datasets"]] == ["kleister-nda", "cuad"]
    kleister, cuad = main
    assert "clauses" in kleister.unscored and "renewal_term" in kleister.unscored
    assert "term" in cuad.unscored and "clauses" not in cuad.unscored
    # the clauses are taught in passes of their own, from CUAD only
    focused = [t for t in job.targets if t.focus]
    assert focused and all(t.key.startswith(cuad.key + "#") for t in focused)
    assert job.summary["datasets"][1]["focused_targets"] == len(focused)
    with pytest.raises(ValueError, match="labels receipts, not contracts"):
        plan(None, ["kleister-nda", "sroie"], False, False, None, 1, settings)


def test_an_unknown_dataset_is_a_clear_error_not_a_fallback() -> None:
    result = _docket("eval", "--dataset", "invoices-2020", timeout=120)
    assert result.returncode == 2
    assert "Unknown dataset 'invoices-2020'" in result.stderr and "sroie" in result.stderr
    result = _docket("adapters", "train", "--data", "invoices-2020", timeout=120)
    assert result.returncode == 2 and "neither a registered dataset" in result.stderr


@needs_datasets
def test_a_trained_adapter_is_saved_loaded_and_switched_without_reloading_the_base(
        tmp_path: Path, settings: Any) -> None:
    out = tmp_path / "adapters" / "receipt"
    result = _docket("adapters", "train", "--type", "receipt", "--data",
                     str(DATASETS_DIR / "sroie"), "--limit", "2", "--synthetic", "1",
                     "--output", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["base_model"] == "gemma-3-270m" and len(manifest["base_model_sha256"]) == 64
    assert manifest["training"]["examples"] == 3 and manifest["training"]["seconds"] > 0
    assert (out / "adapter_model.safetensors").stat().st_size > 100_000

    from pipeline.slm.models import prepare

    assert (out / "adapter.onnx_adapter").stat().st_size > 100_000  # the serving runtime's form
    rt = TorchRuntime(prepare(settings.model, settings.model_cache_dir), adapters_dir=out.parent)
    assert list(rt.adapters) == ["receipt"]
    weight = rt.base.get_input_embeddings().weight
    pointer = weight.data_ptr()
    ids = torch.tensor([rt.encode("Receipt:\nTOTAL 9.90")])
    with torch.inference_mode():
        with rt.using("receipt"):
            adapted = rt.model(input_ids=ids).logits
        with rt.using(None):
            plain = rt.model(input_ids=ids).logits
    assert rt.base.get_input_embeddings().weight.data_ptr() == pointer  # never copied
    assert not torch.equal(adapted, plain)  # the adapter is applied, and can be switched off
    with pytest.raises(ValueError, match="No adapter 'legal'"), rt.using("legal"):
        pass


def test_committed_adapters_fit_the_base_model(runtime: Runtime) -> None:
    for name in ("receipt", "contract"):
        assert name in runtime.adapters, f"adapters/{name} is missing or for other weights"
        manifest = runtime.adapters[name].manifest
        assert manifest["training"]["documents"] > 0 and manifest["rank"] > 0


@needs_datasets
def test_eval_scores_the_dev_split_zero_shot_and_with_the_adapter(tmp_path: Path) -> None:
    report = tmp_path / "sroie.json"
    result = _docket("eval", "--dataset", "sroie", "--limit", "2", "--zero-shot-limit", "1",
                     "--report", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    headline = json.loads(result.stdout.strip().splitlines()[-1])
    assert headline["dataset"] == "sroie"
    assert headline["adapter_documents"] == 2 and headline["zero-shot_documents"] == 1
    assert 0 <= headline["adapter_mean_accuracy"] <= 1
    assert headline["router_accuracy"] == 1.0 and headline["schema_valid"] == 1.0
    full = json.loads(report.read_text())
    adapter = full["modes"]["adapter"]
    assert set(adapter["fields"]) == {"company", "address", "date", "total"}
    # SROIE's four fields, and the hand-labelled ones (currency, subtotal, tax, payment) the
    # answer wrote with a confidence
    calibrated = adapter["calibration"]["fields_above"] + adapter["calibration"]["fields_below"]
    assert calibrated >= 8
    assert adapter["hand_labelled"]["documents"] == 2 and "items_recall" in adapter["hand_labelled"]
    assert set(adapter["fields_loose"]) == set(adapter["fields"])
    assert adapter["mean_accuracy_loose"] >= adapter["mean_accuracy"]
    assert [p["threshold"] for p in adapter["straight_through"]["curve"]][:2] == [0.3, 0.4]
    crossed = adapter["straight_through"]["cross_fitted_curve"]
    assert [p["threshold"] for p in crossed] == [p["threshold"] for p in
                                                  adapter["straight_through"]["curve"]]
    # every document's answer, with raw confidences, for re-scoring offline
    answers = full["answers"]["adapter"]
    assert len(answers) == 2 and all(a["record"] and a["correct"] for a in answers)
    assert all(f["raw_confidence"] is not None for a in answers for f in a["fields"])


@needs_datasets
def test_eval_on_contracts_reports_f1_and_context_recall(tmp_path: Path) -> None:
    result = _docket("eval", "--dataset", "kleister-nda", "--limit", "2", "--zero-shot-limit",
                     "0", "--report", str(tmp_path / "k.json"))
    assert result.returncode == 0, result.stderr[-3000:]
    headline = json.loads(result.stdout.strip().splitlines()[-1])
    assert 0 <= headline["adapter_f1"] <= 1 and "zero-shot_f1" not in headline
    recall = json.loads((tmp_path / "k.json").read_text())["context_recall"]
    assert recall["values"] > 0 and recall["selected"] >= recall["truncated"]


def test_hand_labels_are_scored_beside_the_datasets_own_not_as_one_of_them() -> None:
    """A contract's hand-written fields are scored on their own; Kleister's F1 sees only its
    own keys (a hand-labelled contract answered perfectly still has F1 1)."""
    data = doctypes.dataset("kleister-nda")
    hand = {"title": "NDA", "parties": [{"name": "Nike Inc.", "role": "Company"}],
            "termination_notice": None, "signatories": ["Eric Sprunk"]}
    labels = {"party": ["Nike Inc."], "term": ["2 years"], "hand": [json.dumps(hand)]}
    record = {"title": "NDA", "parties": [{"name": "Nike Inc.", "role": "Company"}],
              "term": "2 years", "termination_notice": None, "signatories": []}
    score = data.score(labels, record)
    summary = data.summarize([score])
    assert summary["f1"] == 1.0
    assert summary["hand_labelled"]["title"] == 1.0 and summary["hand_labelled"]["party_role"] == 1
    assert summary["hand_labelled"]["signatories_recall"] == 0.0
