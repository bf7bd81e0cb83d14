"""Whether a retraining run starves extraction: seconds per document while the trainer trains.

    .venv/bin/python -m bench.training_contention --dataset sroie --documents 8

The same `--documents` dev documents of the dataset go through the worker's stages
(`run_stages`: convert, route, extract, validate) three times in this process: alone; while a
training run goes on in another process at `nice 19`, as the trainer runs it (the real LoRA
loop, continuing the type's adapter on train documents); and, as the reference, beside the
same run at nice 0 (a trainer without its low priority). Printed: p50 and p95 seconds per
document in each case, the ratio to alone, and the training steps the run made meanwhile
(it must still progress). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402


def train_forever(dataset: str, steps_file: Path) -> None:
    """The trainer's loop, again and again, writing each step's number to `steps_file`."""
    from pipeline import doctypes
    from pipeline.settings import get_settings
    from pipeline.slm.adapters import find
    from pipeline.training.data import training_targets
    from pipeline.training.datasets import DATASETS_DIR
    from pipeline.training.lora import TrainConfig, train

    settings = get_settings()
    data = doctypes.dataset(dataset)
    targets, summary = training_targets(data, data.path(DATASETS_DIR), settings, 0, 20)
    adapter = find(str(doctypes.get(data.doc_type).adapter))
    done = 0

    def step(n: int, total: int, loss: float) -> None:
        steps_file.write_text(str(done + n))

    with tempfile.TemporaryDirectory() as out:
        while True:
            train(targets, Path(out), settings, TrainConfig(epochs=1.0), summary, step,
                  adapter.path)
            done += len(targets)


def measure(items: list[tuple[str, bytes]]) -> list[float]:
    from pipeline.process import run_stages
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime

    settings = get_settings()
    runtime = get_runtime(settings)
    seconds = []
    for name, data in items:
        started = time.perf_counter()
        run_stages(data, name, runtime, settings)
        seconds.append(time.perf_counter() - started)
    return seconds


def beside_training(dataset: str, niceness: int, items: list[tuple[str, bytes]]
                    ) -> tuple[list[float], int]:
    """Seconds per document while a training run goes on at `niceness`, and its steps."""
    with tempfile.TemporaryDirectory() as tmp:
        steps_file = Path(tmp) / "steps"
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.training_contention", "--dataset", dataset,
             "--train-into", str(steps_file)],
            preexec_fn=lambda: os.nice(niceness), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while not steps_file.exists():  # the model loaded and the first step done
                if proc.poll() is not None:
                    raise RuntimeError("the training run stopped before its first step")
                time.sleep(0.5)
            before = int(steps_file.read_text() or 0)
            seconds = measure(items)
            steps = int(steps_file.read_text() or 0) - before
        finally:
            proc.kill()
            proc.wait()
    return seconds, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--documents", type=int, default=8)
    parser.add_argument("--train-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_into:
        train_forever(args.dataset, args.train_into)
        return
    from pipeline.training.datasets import labelled_sources

    sources = [s for s in labelled_sources(args.dataset) if s.split == "dev"][: args.documents]
    items = [(s.filename, s.path.read_bytes()) for s in sources]
    measure(items[:1])  # warm: the model, OCR and grammar caches
    alone = measure(items)
    low, low_steps = beside_training(args.dataset, 19, items)
    same, same_steps = beside_training(args.dataset, 0, items)
    base = float(np.median(alone))
    rows: list[tuple[str, list[float], Any]] = [
        ("alone", alone, ""), ("training at nice 19 (ours)", low, low_steps),
        ("training at nice 0 (reference)", same, same_steps)]
    print(f"{'extraction beside':32} {'p50 s':>7} {'p95 s':>7} {'p50 ratio':>9} "
          f"{'training steps':>14}")
    summary: dict[str, Any] = {"documents": len(items)}
    for name, seconds, steps in rows:
        p50, p95 = float(np.median(seconds)), float(np.percentile(seconds, 95))
        print(f"{name:32} {p50:7.2f} {p95:7.2f} {p50 / base:8.2f}× {steps!s:>14}")
        key = name.split(" (")[0].replace(" ", "_")
        summary[f"{key}_p50_s"] = round(p50, 2)
        summary[f"{key}_p95_s"] = round(p95, 2)
        if steps != "":
            summary[f"{key}_steps"] = steps
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
