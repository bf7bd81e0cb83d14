"""Speculative decoding (the grammar's dictated text and copies from the document, checked in
one model pass) writes token for token what plain greedy decoding writes, in fewer passes.

The long form runs the first N dev documents of every dataset as well:
`DOCKET_LOSSLESS_DEV=3 ./scripts/test.sh tests/test_speculative.py`.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from pipeline import doctypes
from pipeline.convert import convert
from pipeline.doctypes.base import DocType
from pipeline.document import Document
from pipeline.extract import null_out, prompt_for
from pipeline.slm.decoding import Drafter, Generation
from tests.conftest import SAMPLES

BASE_TOO = {"receipt-cafe.png", "contract-nda.pdf"}  # also decoded without an adapter
DEV_DOCS = int(os.environ.get("DOCKET_LOSSLESS_DEV", "0"))


def _both(runtime: Any, settings: Any, document: Document, doctype: DocType,
          adapter: str | None) -> tuple[Generation, Generation]:
    """The main pass decoded plainly and speculatively, on the same prompt."""
    prompt, text = prompt_for(document, doctype, settings)
    schema = null_out(doctype.json_schema(), [f.path for f in doctype.focused])
    out = []
    try:
        for speculative in (False, True):
            runtime.speculative = speculative
            out.append(runtime.generate_json(prompt, schema, doctype.output_tokens, None, 1.0,
                                             adapter, text))
    finally:
        runtime.speculative = True
    return out[0], out[1]


def _assert_same(plain: Generation, fast: Generation) -> None:
    assert fast.token_ids == plain.token_ids
    assert fast.token_logprobs == plain.token_logprobs  # each token's own probability, exactly
    assert fast.finished == plain.finished
    assert fast.model_passes < plain.model_passes == plain.output_tokens


SAMPLE_FILES = sorted(p.name for p in SAMPLES.iterdir()
                      if p.name.split("-")[0] in doctypes.REGISTRY)  # "receipt-cafe.png"


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_speculative_decoding_writes_what_greedy_writes_on_every_sample(
        runtime: Any, settings: Any, name: str) -> None:
    doctype = doctypes.get(name.split("-")[0])
    path = SAMPLES / name
    document = convert(path.read_bytes(), path.name, settings)
    for adapter in (doctype.adapter, None) if name in BASE_TOO else (doctype.adapter,):
        plain, fast = _both(runtime, settings, document, doctype, adapter)
        _assert_same(plain, fast)
        assert fast.forced_tokens > 0  # keys and separators came without a pass each


def _dev_sources() -> list[Any]:
    from pipeline.training.datasets import labelled_sources

    out = []
    for name in doctypes.DATASETS:
        try:
            sources = labelled_sources(name)
        except (OSError, ValueError):  # a dataset not in ../shared here (generated ones are)
            continue
        out += [s for s in sources if s.split == "dev"][:DEV_DOCS]
    return out


@pytest.mark.skipif(DEV_DOCS == 0, reason="long form: DOCKET_LOSSLESS_DEV=N dev documents")
def test_speculative_decoding_writes_what_greedy_writes_on_dev_documents(
        runtime: Any, settings: Any) -> None:
    from pipeline.training.datasets import convert_source

    sources = _dev_sources()
    assert sources
    for source in sources:
        document = convert_source(source, settings)
        assert document is not None
        doctype = doctypes.get(source.label)
        plain, fast = _both(runtime, settings, document, doctype, doctype.adapter)
        _assert_same(plain, fast)


def test_a_copy_draft_follows_the_longest_run_just_written_in_the_prompt() -> None:
    prompt = [5, 6, 7, 8, 9, 1, 7, 2, 3]
    drafter = Drafter(prompt, lambda text: [ord(c) for c in text])
    assert drafter.copy([4, 6, 7], 3) == [8, 9, 1]  # "6 7" occurs once: what follows it
    assert drafter.copy([4, 4, 7], 2) == [2, 3]  # "7" alone: its last occurrence
    assert drafter.copy([4], 2) == []  # never in the prompt: nothing to copy


def test_docket_speculative_0_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.settings import Settings

    assert Settings().speculative is True
    monkeypatch.setenv("DOCKET_SPECULATIVE", "0")
    assert Settings().speculative is False
