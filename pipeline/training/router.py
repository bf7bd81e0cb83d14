"""Train and evaluate the router's head (see `pipeline.classify`) from real documents.

Why this shape:
- The head reads what production reads: every training text comes out of Docket's own
  `convert()` (text layer or OCR for each registered dataset's documents, the text and
  markup converters for the "unknown" prose), cut and embedded exactly as `classify` does.
- Its classes are the registered types plus "unknown"; each type's documents come from its
  datasets (`pipeline.doctypes`).
- "unknown" needs real negatives, and nothing may be downloaded: prose that ships on this
  machine (Debian package docs under /usr/share/doc, package descriptions and READMEs in
  site-packages), licence and copyright files left out because they read like contracts.
- Splits are deterministic so dev figures are comparable between runs: each dataset's own;
  negatives by source package (a package's files never straddle the split), every 5th
  package to dev.
- Each train document also gives one later window of its text (`windows`, where its type
  says), so the head learns document bodies, not just their headers.
- Converting (OCR) and embedding dominate; both are cached under ~/.cache/docket/router/,
  so retraining after a change costs seconds.
- The head is multinomial logistic regression (L-BFGS, L2, class-balanced) on standardised
  embeddings, with the standardisation folded into the saved weights. The "unknown"
  threshold on the top probability is chosen on dev, then everything is written to the
  manifest with the dev accuracy and confusion matrices.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline import doctypes
from pipeline.classify import (
    EMBED_CHARS,
    EMBED_TOKENS,
    MANIFEST,
    ROUTER_DIR,
    WEIGHTS,
    RouterHead,
    load_head,
)
from pipeline.doctypes import Dataset, Source
from pipeline.doctypes.base import written_sources
from pipeline.settings import Settings
from pipeline.slm.runtime import Runtime
from pipeline.training import datasets
from pipeline.training.datasets import DATASETS_DIR, convert_cached, write_atomic

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = ROOT / "samples" / "documents"
CACHE_DIR = datasets.CACHE_DIR / "router"
CLASSES: tuple[str, ...] = (*doctypes.REGISTRY, doctypes.UNKNOWN)
DEV_EVERY = 5  # every 5th negative source package goes to dev

# Negatives: where on this machine, and how much. Lengths vary so that short notes and long
# pages both count as "unknown"; at most a few snippets per package keep any one dominant.
NEGATIVE_ROOTS = (Path("/usr/share/doc"),)
NEGATIVE_LENGTHS = (150, 400, 800, 1500, 3000)
NEGATIVES_PER_PACKAGE = 2
NEGATIVES_MAX = 480
_NEGATIVE_SUFFIXES = {"", ".md", ".markdown", ".txt", ".rst", ".html", ".htm"}
_NOT_PROSE = ("copyright", "licen", "copying", "changelog", "changes", "authors", "thanks",
              "notice", "todo", "entry_points", "top_level", "record", "installer", "wheel")
_MAX_NEGATIVE_BYTES = 300_000

L2 = 1e-3
MAX_ITERATIONS = 500

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Example:
    source: Source
    text: str  # what the head sees (already cut to EMBED_CHARS)
    embedding: np.ndarray  # [hidden]


# --- data sources -------------------------------------------------------------------------


def windows(sources: list[Source], fractions: tuple[float, ...]) -> list[Source]:
    """One later window of each train document, so the head learns the body, not the header.

    SROIE receipts all open with a Malaysian company name, registration and GST number, and
    EDGAR contracts with exhibit headers; a window that starts further in keeps the head from
    keying on those alone (US receipts, contracts with a cover page). Dev keeps only the
    document starts, as production reads them.
    """
    return [
        replace(s, key=f"{s.key}@{f}", window=f)
        for s in sources if s.split == "train"
        for f in [fractions[_stable_int(s.key) % len(fractions)]]
    ]


def sample_sources(samples_dir: Path = SAMPLES_DIR) -> list[Source]:
    """The repository's sample documents (named <type>-*): a sanity check only."""
    return [
        Source("samples", path.name, path.name.split("-", 1)[0], "dev", path, path.name)
        for path in sorted(samples_dir.iterdir())
        if path.is_file() and path.name.split("-", 1)[0] in CLASSES
    ]


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _read_maybe_gzip(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _looks_like_prose(data: bytes) -> bool:
    """Mostly words and spaces, a fair amount of it: README prose, not code or tables."""
    text = data[:6000].decode("utf-8", errors="replace")
    if len(text.strip()) < 400:
        return False
    wordy = sum(ch.isalpha() or ch in " \n.,;:'\"()-" for ch in text)
    words = text.split()
    return wordy / len(text) > 0.9 and 3.5 < sum(map(len, words)) / max(len(words), 1) < 8


def negative_sources(roots: Iterable[Path] = NEGATIVE_ROOTS,
                     site_packages: Path | None = None) -> list[Source]:
    """Prose that is none of the registered types, found on this machine; split by package."""
    candidates: dict[str, list[tuple[Path, str]]] = {}  # package → (path, upload name)
    for root in roots:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            name = path.name[:-3] if path.name.endswith(".gz") else path.name
            lowered = name.lower()
            if (len(rel.parts) < 2 or not path.is_file() or path.is_symlink()
                    or (Path(lowered).suffix not in _NEGATIVE_SUFFIXES
                        and not lowered.startswith(("readme", "faq")))
                    or any(word in lowered for word in _NOT_PROSE)
                    or path.stat().st_size > _MAX_NEGATIVE_BYTES):
                continue
            candidates.setdefault(f"deb:{rel.parts[0]}", []).append((path, name))
    site_packages = site_packages or Path(torch.__file__).resolve().parents[1]
    for path in sorted(site_packages.glob("*.dist-info/METADATA")):
        package = path.parent.name.split("-", 1)[0].lower().replace("_", "-")
        candidates.setdefault(f"py:{package}", []).append((path, "README.md"))
    for path in sorted(site_packages.glob("*/**/*.md")):
        if any(word in path.name.lower() for word in _NOT_PROSE):
            continue
        package = path.relative_to(site_packages).parts[0].split("-", 1)[0].lower()
        candidates.setdefault(f"py:{package.replace('_', '-')}", []).append((path, path.name))

    sources: list[Source] = []
    packages = sorted(candidates)
    for index, package in enumerate(packages):
        split = "dev" if index % DEV_EVERY == DEV_EVERY - 1 else "train"
        taken = 0
        files = sorted(candidates[package], key=lambda item: _stable_int(str(item[0])))
        for path, name in files:
            if taken == NEGATIVES_PER_PACKAGE:
                break
            try:
                data = _read_maybe_gzip(path)
            except (OSError, EOFError, gzip.BadGzipFile):
                continue
            if path.name == "METADATA":
                data = data.partition(b"\n\n")[2]
            if not _looks_like_prose(data):
                continue
            length = NEGATIVE_LENGTHS[_stable_int(str(path)) % len(NEGATIVE_LENGTHS)]
            sources.append(Source("other-text", str(path), doctypes.UNKNOWN, split, path, name,
                                  snippet_chars=length))
            taken += 1
    # Spread the cap over the packages rather than keeping the alphabetically first ones.
    sources.sort(key=lambda s: _stable_int(s.key))
    return sorted(sources[:NEGATIVES_MAX], key=lambda s: s.key)


# --- conversion and embedding, cached -----------------------------------------------------


def _source_bytes(source: Source) -> bytes:
    data = _read_maybe_gzip(source.path) if source.dataset == "other-text" else \
        source.path.read_bytes()
    if source.path.name == "METADATA":
        data = data.partition(b"\n\n")[2]
    return data


def converted_text(source: Source, settings: Settings) -> str | None:
    """The document's text as Docket's `convert()` produces it (None if it refuses the file)."""
    document = convert_cached(_source_bytes(source), source.filename, settings)
    return None if document is None else document.text()


def _snippet(text: str, chars: int, seed: int) -> str:
    """About `chars` characters of whole lines, from a deterministic place in the text."""
    lines = text.splitlines()
    if len(text) <= chars:
        return text
    total, starts = 0, []
    for i, line in enumerate(lines):  # any start that leaves enough text behind it
        starts.append(i)
        total += len(line) + 1
        if len(text) - total < chars:
            break
    start = starts[seed % len(starts)]
    out: list[str] = []
    size = 0
    for line in lines[start:]:
        if size >= chars:
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def _window(text: str, fraction: float) -> str:
    """The text from the first line that starts at or after `fraction` of its length."""
    start = text.find("\n", int(len(text) * fraction))
    return text[start + 1:] if start >= 0 else text


def embed_cached(text: str, runtime: Runtime, cache_dir: Path = CACHE_DIR) -> np.ndarray:
    """`runtime.embed` of the text, cached per base-model weights and runtime (the int8
    ONNX body's embeddings differ slightly from the fp32 PyTorch ones)."""
    key = hashlib.sha256(f"{EMBED_TOKENS}\0{text}".encode()).hexdigest()
    path = (cache_dir / "embeddings" / f"{runtime.model_sha256[:16]}-{runtime.kind}"
            / f"{key}.npy")
    if path.is_file():
        return np.load(path)
    vector = runtime.embed(text, max_tokens=EMBED_TOKENS).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, vector)
    tmp.replace(path)
    return vector


def build_examples(sources: list[Source], runtime: Runtime, settings: Settings,
                   progress: Progress | None = None, cache_dir: Path = CACHE_DIR) -> list[Example]:
    """Convert, cut and embed every source (cached); sources convert() refuses are skipped."""
    examples = []
    started = time.perf_counter()
    for i, source in enumerate(sources, 1):
        text = converted_text(source, settings)
        if text is not None and source.snippet_chars is not None:
            text = _snippet(text, source.snippet_chars, _stable_int(source.key))
        if text is not None and source.window:
            text = _window(text, source.window)
        if text and text.strip():
            text = text[:EMBED_CHARS]
            examples.append(Example(source, text, embed_cached(text, runtime, cache_dir)))
        if progress and (i % 25 == 0 or i == len(sources)):
            progress(f"{source.dataset}: {i}/{len(sources)} documents "
                     f"({time.perf_counter() - started:.0f} s)")
    return examples


# --- fitting and evaluation ---------------------------------------------------------------


def fit_head(x: torch.Tensor, y: torch.Tensor, n_classes: int, l2: float = L2
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Class-balanced multinomial logistic regression; returns (weight, bias) on raw embeddings."""
    torch.manual_seed(0)
    mean = x.mean(dim=0)
    std = x.std(dim=0).clamp_min(1e-4)
    z = (x - mean) / std
    counts = torch.bincount(y, minlength=n_classes).float()
    class_weight = len(y) / (n_classes * counts.clamp_min(1))
    w = torch.zeros(n_classes, x.shape[1], requires_grad=True)
    b = torch.zeros(n_classes, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=MAX_ITERATIONS,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-6)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(z @ w.T + b, y, weight=class_weight)
        loss = loss + l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        weight = w / std
        bias = b - weight @ mean
    return weight.detach().clone(), bias.detach().clone()


def _predict(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x @ weight.T + bias, dim=-1)


def _decide(probs: torch.Tensor, threshold: float, classes: tuple[str, ...]) -> list[str]:
    best = probs.max(dim=-1)
    return [classes[int(i)] if float(p) >= threshold else doctypes.UNKNOWN
            for p, i in zip(best.values, best.indices, strict=True)]


def _by_dataset(examples: list[Example]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        groups.setdefault(ex.source.dataset, []).append(i)
    return groups


TOLERANCE = 0.003  # of the mean per-set dev accuracy (one document of 80 costs 0.0014)


def choose_threshold(probs: torch.Tensor, examples: list[Example],
                     classes: tuple[str, ...]) -> float:
    """The lower quartile of the widest-scoring range of thresholds on dev.

    Score = mean over dev datasets of accuracy (each dataset counts the same, whatever its
    size). Not the range's edge, which leaves no room; not its middle either: with five
    classes a document unlike any dev set (a US bookshop's PDF receipt, a services agreement
    with a fee table) keeps its right type on top at 0.6-0.7, under the middle (0.72), while
    every dev negative sat below the lower quartile. Thresholds within TOLERANCE of the best
    score count as best.
    """
    grid = [round(0.34 + 0.01 * i, 2) for i in range(62)]  # 0.34 … 0.95
    groups = _by_dataset(examples)
    scores = []
    for t in grid:
        predicted = _decide(probs, t, classes)
        per_set = [np.mean([predicted[i] == examples[i].source.label for i in idx])
                   for idx in groups.values()]
        scores.append(float(np.mean(per_set)))
    best = max(scores)
    # within TOLERANCE of the best: a document or two of a dev set, for room to the low side
    best_grid = [t for t, s in zip(grid, scores, strict=True) if s >= best - TOLERANCE]
    # the longest contiguous run of best thresholds, then its middle
    runs: list[list[float]] = []
    for t in best_grid:
        if runs and abs(t - runs[-1][-1] - 0.01) < 1e-6:
            runs[-1].append(t)
        else:
            runs.append([t])
    run = max(runs, key=len)
    return round(float(np.quantile(run, 0.25)), 2)


def evaluate(weight: torch.Tensor, bias: torch.Tensor, threshold: float,
             examples: list[Example], classes: tuple[str, ...] = CLASSES) -> dict[str, Any]:
    """Accuracy and confusion (rows: true label, columns: routed label) per dataset and overall."""
    if not examples:
        return {}
    x = torch.from_numpy(np.stack([ex.embedding for ex in examples]))
    probs = _predict(weight, bias, x)
    predicted = _decide(probs, threshold, classes)
    report: dict[str, Any] = {}
    groups = {**_by_dataset(examples), "overall": list(range(len(examples)))}
    for name, idx in groups.items():
        matrix = [[sum(1 for i in idx if examples[i].source.label == t and predicted[i] == p)
                   for p in classes] for t in classes]
        correct = sum(predicted[i] == examples[i].source.label for i in idx)
        report[name] = {"n": len(idx), "accuracy": round(correct / len(idx), 4),
                        "confusion": {"labels": list(classes), "matrix": matrix}}
    report["errors"] = [
        {"dataset": ex.source.dataset, "id": ex.source.key, "label": ex.source.label,
         "routed": predicted[i], "p": [round(float(v), 3) for v in probs[i]]}
        for i, ex in enumerate(examples) if predicted[i] != ex.source.label
    ][:20]
    return report


def _counts(examples: list[Example]) -> dict[str, dict[str, int]]:
    counts = Counter((ex.source.dataset, ex.source.split + ("_windows" if ex.source.window else ""))
                     for ex in examples)
    out: dict[str, dict[str, int]] = {}
    for (dataset, split), n in sorted(counts.items()):
        out.setdefault(dataset, {})[split] = n
    return out


def _all_sources(datasets_dir: Path) -> list[Source]:
    """Every registered dataset's documents (plus a later window of each train document),
    and the machine's prose as "unknown"."""
    missing = [d.folder for d in doctypes.DATASETS.values()
               if d.generated_in is None and not d.path(datasets_dir).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"The router is trained on the shared datasets, not found at {datasets_dir} "
            f"(expected {', '.join(missing)} there)."
        )
    sources: list[Source] = []
    for data in doctypes.DATASETS.values():
        found = data.sources(data.path(datasets_dir))
        sources += [*found, *windows(found, doctypes.get(data.doc_type).router_windows)]
    for data in doctypes.DATASETS.values():
        if data.synthetic is not None:
            sources += synthetic_sources(data)
    for doctype in doctypes.REGISTRY.values():
        if doctype.router_lookalikes:
            sources += doctype.router_lookalikes()
    return [*sources, *negative_sources()]


SYNTHETIC_PER_DATASET = 100


def synthetic_sources(data: Dataset, count: int = SYNTHETIC_PER_DATASET) -> list[Source]:
    """A dataset's generated documents as text files (written on first use): the type
    beyond its one dataset's look (SROIE is Malaysian scans; a US shop's PDF receipt is a
    receipt too). Every 5th to dev."""
    make = data.synthetic
    assert make is not None
    return written_sources(f"{data.name}-synthetic", CACHE_DIR / "router" /
                           f"synthetic-{data.name}", f"{data.name}-synthetic", ".txt",
                           lambda seed: make(seed).text, range(count), label=data.doc_type,
                           dev_every=5)


def train_router(output_dir: Path, runtime: Runtime, settings: Settings,
                 progress: Progress | None = None, datasets_dir: Path = DATASETS_DIR,
                 cache_dir: Path = CACHE_DIR) -> dict[str, Any]:
    """Fit the head on the train splits, pick the threshold on dev, save; returns the manifest.

    The first run converts and embeds every dataset document (slow, mostly OCR; the README
    has the time); later runs read the cache in ~/.cache/docket/router/ in seconds.
    """
    started = time.perf_counter()
    sources = _all_sources(datasets_dir)
    examples = build_examples(sources, runtime, settings, progress, cache_dir)
    samples = build_examples(sample_sources(), runtime, settings, None, cache_dir)
    data_s = time.perf_counter() - started
    train = [ex for ex in examples if ex.source.split == "train"]
    dev = [ex for ex in examples if ex.source.split == "dev"]

    fit_started = time.perf_counter()
    x = torch.from_numpy(np.stack([ex.embedding for ex in train]))
    y = torch.tensor([CLASSES.index(ex.source.label) for ex in train])
    weight, bias = fit_head(x, y, len(CLASSES))
    dev_x = torch.from_numpy(np.stack([ex.embedding for ex in dev]))
    threshold = choose_threshold(_predict(weight, bias, dev_x), dev, CLASSES)
    fit_s = time.perf_counter() - fit_started

    train_report = evaluate(weight, bias, threshold, train)
    manifest: dict[str, Any] = {
        "kind": "docket-router-head",
        "base_model": runtime.name,
        "model_sha256": runtime.model_sha256,
        "classes": list(CLASSES),
        "threshold": threshold,
        "weights": WEIGHTS,
        "embedding": {
            "max_chars": EMBED_CHARS,
            "max_tokens": EMBED_TOKENS,
            "pooling": "mean of the base model's last hidden layer (Runtime.embed)",
            "dim": int(weight.shape[1]),
        },
        "head": {
            "type": "linear softmax (multinomial logistic regression), class-balanced",
            "l2": L2,
            "optimizer": f"L-BFGS, at most {MAX_ITERATIONS} iterations, zero init",
            "standardisation": "folded into weight and bias",
        },
        "training_data": {
            "text": "Docket's own convert() of each document (text layer, else OCR; "
                    "other-text via the text/markup converters)",
            "split": "each dataset's own (see its package); other-text: by source package, "
                     "packages sorted, every 5th to dev",
            "other_text": "prose shipped on this machine: /usr/share/doc (no licence, "
                          "copyright or changelog files) and site-packages package "
                          f"descriptions/READMEs; snippets of {list(NEGATIVE_LENGTHS)} chars, "
                          f"at most {NEGATIVES_PER_PACKAGE} per package",
            "augmentation": "train_windows: one extra window per train document, starting "
                            "at one of " + ", ".join(
                                f"{name} {list(t.router_windows)}"
                                for name, t in doctypes.REGISTRY.items())
                            + " of its text (dev: document starts only)",
            "counts": _counts(examples),
        },
        "train_accuracy": {k: v["accuracy"] for k, v in train_report.items() if k != "errors"},
        "dev": evaluate(weight, bias, threshold, dev),
        "samples": evaluate(weight, bias, threshold, samples),
        "timings_s": {"data": round(data_s, 1), "fit": round(fit_s, 2)},
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    save_head(output_dir, weight, bias, manifest)
    if progress:
        dev_acc = {k: v["accuracy"] for k, v in manifest["dev"].items() if k != "errors"}
        progress(f"router head written to {output_dir}: threshold {threshold}, dev {dev_acc}")
    return manifest


def save_head(output_dir: Path, weight: torch.Tensor, bias: torch.Tensor,
              manifest: dict[str, Any]) -> None:
    """Write weights then manifest, each atomically (a worker may be reading the old head)."""
    from safetensors.torch import save

    data = save({"weight": weight.contiguous().float(), "bias": bias.contiguous().float()})
    write_atomic(output_dir / WEIGHTS, data)
    write_atomic(output_dir / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())


def evaluate_router(runtime: Runtime, settings: Settings, head_dir: Path = ROUTER_DIR,
                    progress: Progress | None = None, datasets_dir: Path = DATASETS_DIR,
                    cache_dir: Path = CACHE_DIR) -> dict[str, Any]:
    """Re-measure a saved head on the dev splits and the samples (e.g. after a converter change)."""
    head: RouterHead = load_head(head_dir)
    head.check_runtime(runtime)
    dev = [s for s in _all_sources(datasets_dir) if s.split == "dev"]
    examples = build_examples(dev, runtime, settings, progress, cache_dir)
    samples = build_examples(sample_sources(), runtime, settings, None, cache_dir)
    weight, bias = torch.from_numpy(head.weight), torch.from_numpy(head.bias)
    return {
        "threshold": head.threshold,
        "dev": evaluate(weight, bias, head.threshold, examples, head.classes),
        "samples": evaluate(weight, bias, head.threshold, samples, head.classes),
    }
