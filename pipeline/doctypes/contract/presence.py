"""How a clause's presence threshold (the adapter's `decoding.present_at`) is chosen.

A clause pass writes null or an excerpt; the probability the model gave to writing a value
ranks clauses well, but an adapter may say null to many it ranks as likely there. This reads
a `docket eval --dataset cuad` report made without a threshold, and prints presence F1 for
each threshold, with an honest figure beside it: the dev contracts are split in two halves,
the best threshold of each half is judged on the other (cross-fitted), so the figure does not
flatter a threshold tuned to the documents it is reported on.

    python -m pipeline.doctypes.contract.presence [~/.cache/docket/eval/cuad.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pipeline.doctypes.base import record_of
from pipeline.doctypes.contract.schema import CLAUSES
from pipeline.training.datasets import labelled_sources

THRESHOLDS = (0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01)

Case = tuple[str, bool, float]  # clause, labelled present, probability of a value


def cases(report: dict[str, Any]) -> list[list[Case]]:
    """Per dev contract: each clause's label and the model's probability of a value (1 when
    it wrote one, else 1 - its probability of null; 0 without a pass)."""
    gold = {s.key: record_of(s.labels) for s in labelled_sources("cuad")}
    out = []
    for answer in report["answers"]["adapter"]:
        found = {f["path"]: f for f in answer.get("fields") or []}
        doc = []
        for name in CLAUSES:
            item = found.get(f"clauses.{name}")
            if item is None:
                p = 0.0
            else:
                p = 1.0 if item["value"] is not None else 1.0 - item["raw_confidence"]
            doc.append((name, bool(gold[answer["key"]][name]["present"]), p))
        out.append(doc)
    return out


def _counts(docs: list[list[Case]], threshold: float,
            clause: str | None = None) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of presence at the threshold."""
    tp = fp = fn = 0
    for doc in docs:
        for name, present, p in doc:
            if clause is None or name == clause:
                said = p >= threshold
                tp += present and said
                fp += said and not present
                fn += present and not said
    return tp, fp, fn


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def f1(docs: list[list[Case]], threshold: float, clause: str | None = None) -> float:
    return _f1(*_counts(docs, threshold, clause))


def best(docs: list[list[Case]]) -> float:
    return max(THRESHOLDS, key=lambda threshold: f1(docs, threshold))


def cross_fitted(docs: list[list[Case]]) -> tuple[float, list[float]]:
    """Presence F1 with each half's cases judged at the threshold best on the other half."""
    halves = [docs[0::2], docs[1::2]]
    chosen = [best(halves[1]), best(halves[0])]
    counts = [_counts(half, threshold) for half, threshold in zip(halves, chosen, strict=True)]
    return _f1(*(sum(c[i] for c in counts) for i in range(3))), chosen


def main(path: Path) -> None:
    docs = cases(json.loads(path.read_text()))
    print(f"{len(docs)} contracts; presence F1 by threshold (all six, then each clause)")
    for threshold in THRESHOLDS:
        each = " ".join(f"{name[:8]} {f1(docs, threshold, name):.2f}" for name in CLAUSES)
        print(f"  {threshold:<5} {f1(docs, threshold):.3f}   {each}")
    honest, chosen = cross_fitted(docs)
    print(f"cross-fitted: {honest:.3f} (thresholds chosen on each half: {chosen})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1
         else Path.home() / ".cache" / "docket" / "eval" / "cuad.json")
