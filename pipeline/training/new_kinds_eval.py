"""Measure new-kind discovery: do the documents the router cannot place group by their kind?

Why this shape:
- The mix is what an admin would face: dev documents of the registered types (each
  dataset's dev split, converted by Docket's own `convert()`, cached) and documents of kinds
  the router never saw. Those are real text on this machine from places router training does
  not read (it reads /usr/share/doc prose and site-packages READMEs/descriptions): rendered
  man pages, Python source files, C headers and configuration files. Nothing is copied into
  the repository; sampling is seeded, so the same machine gives the same mix.
- The real router decides, exactly as `classify` does (the head's cut and token budget);
  only what it calls unknown is clustered, with the same `cluster` as `docket types suggest`.
- Figures: per kind, how many the router called unknown; purity (share of clustered
  documents whose cluster's majority kind is their own); coverage (share of an unseen kind's
  documents that were called unknown and landed in a cluster whose majority is their kind:
  what an admin would actually be shown); noise share; each cluster's majority and words.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import doctypes
from pipeline.classify import EMBED_TOKENS, RouterHead, load_head
from pipeline.new_kinds.cluster import MIN_CLUSTER_SIZE, cluster
from pipeline.settings import Settings
from pipeline.slm.runtime import Runtime
from pipeline.training.datasets import DATASETS_DIR, convert_cached
from pipeline.training.router import embed_cached

PER_KIND = 25
SEED = 0
MIN_TEXT_CHARS = 300
MAX_FILE_BYTES = 60_000

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Candidate:
    """A file of one kind; `read` gives the bytes an upload would have. `family` is where it
    comes from (a program, a package, a folder): sampling spreads over families, so one
    prolific source (a cloud SDK's thousand man pages) does not make up a whole kind."""

    kind: str
    path: Path
    filename: str
    read: Callable[[Path], bytes]
    family: str


def _plain(path: Path) -> bytes:
    return path.read_bytes()


def _rendered_man_page(path: Path) -> bytes:
    """The man page as `man` shows it (plain text when not on a terminal)."""
    env = {**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "", "LC_ALL": "C.UTF-8"}
    done = subprocess.run(["man", "-l", str(path)], capture_output=True, timeout=60, env=env,
                          check=False)
    return done.stdout


def _files(root: Path, pattern: str, keep: Callable[[Path], bool] = lambda p: True
           ) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob(pattern)
                  if p.is_file() and not p.is_symlink()
                  and 400 <= p.stat().st_size <= MAX_FILE_BYTES and keep(p))


def _site_packages() -> Path:
    return Path(np.__file__).resolve().parents[1]


def unseen_kinds() -> dict[str, list[Candidate]]:
    """Kinds of text the router was never trained on, found on this machine, by kind."""
    site = _site_packages()
    man = [Candidate("man page", p, p.name.removesuffix(".gz"), _rendered_man_page,
                     re.split(r"[-_.]", p.name, maxsplit=1)[0])
           for section in ("man1", "man5", "man8")
           for p in _files(Path("/usr/share/man") / section, "*.gz",
                           lambda p: p.stat().st_size >= 1500)]
    python = [Candidate("python source", p, p.name, _plain, p.relative_to(site).parts[0])
              for p in _files(site, "*/**/*.py",
                              lambda p: p.name != "__init__.py"
                              and "test" not in str(p.relative_to(site)).lower())]
    headers = [Candidate("c header", p, p.name, _plain,
                         str(p.parent.relative_to(Path("/usr/include"))))
               for p in _files(Path("/usr/include"), "**/*.h")]
    config = [Candidate("config file", p, p.name, _plain, str(p.parent))
              for p in _files(Path("/etc"), "**/*.conf")]
    found = {"man page": man, "python source": python, "c header": headers,
             "config file": config}
    return {kind: files for kind, files in found.items() if files}


@dataclass(frozen=True)
class Item:
    kind: str  # a registered type's name, or an unseen kind's
    seen: bool  # a registered type (the router knows it)
    key: str
    text: str


def known_items(settings: Settings, per_kind: int, seed: int,
                datasets_dir: Path = DATASETS_DIR) -> list[Item]:
    """Dev documents of each registered dataset (up to `per_kind` a dataset), converted."""
    items = []
    for data in doctypes.DATASETS.values():
        folder = data.path(datasets_dir)
        if data.generated_in is None and not folder.is_dir():
            continue
        dev = [s for s in data.sources(folder) if s.split == "dev"]
        for source in random.Random(f"{seed}:{data.name}").sample(dev, min(per_kind, len(dev))):
            document = convert_cached(source.path.read_bytes(), source.filename, settings)
            text = document.text() if document is not None else ""
            if text.strip():
                items.append(Item(data.doc_type, True, f"{data.name}:{source.key}", text))
    return items


def spread(candidates: list[Candidate], rng: random.Random) -> list[Candidate]:
    """A seeded order that takes one file of each family in turn (families shuffled, files
    within a family shuffled)."""
    families: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        families.setdefault(candidate.family, []).append(candidate)
    queues = [rng.sample(files, len(files)) for _, files in sorted(families.items())]
    rng.shuffle(queues)
    order = []
    while queues:
        order += [queue.pop() for queue in queues]
        queues = [queue for queue in queues if queue]
    return order


def unseen_items(settings: Settings, per_kind: int, seed: int) -> list[Item]:
    """Up to `per_kind` documents of each unseen kind with enough text, seeded."""
    items = []
    for kind, candidates in unseen_kinds().items():
        taken = 0
        for candidate in spread(candidates, random.Random(f"{seed}:{kind}")):
            if taken == per_kind:
                break
            data = candidate.read(candidate.path)
            if not data:
                continue
            document = convert_cached(data, candidate.filename, settings)
            text = document.text() if document is not None else ""
            if len(text.strip()) < MIN_TEXT_CHARS:
                continue
            items.append(Item(kind, False, str(candidate.path), text))
            taken += 1
    return items


def measure(runtime: Runtime, settings: Settings, per_kind: int = PER_KIND, seed: int = SEED,
            min_cluster_size: int = MIN_CLUSTER_SIZE, progress: Progress | None = None,
            datasets_dir: Path = DATASETS_DIR) -> dict[str, Any]:
    """Route the mix with the real router, cluster its unknowns, and score the clusters."""
    started = time.perf_counter()
    head = load_head()
    head.check_runtime(runtime)
    items = known_items(settings, per_kind, seed, datasets_dir)
    if progress:
        progress(f"known types: {len(items)} dev documents converted")
    items += unseen_items(settings, per_kind, seed)
    if progress:
        progress(f"mix: {len(items)} documents ({time.perf_counter() - started:.0f} s)")
    routed, vectors = route(items, runtime, head, progress)
    unknown = [i for i, label in enumerate(routed) if label == doctypes.UNKNOWN]
    found = cluster(np.stack([vectors[i] for i in unknown]) if unknown else np.zeros((0, 1)),
                    [items[i].text for i in unknown], min_cluster_size)
    return score(items, routed, unknown, found.labels,
                 [c.words for c in found.clusters]) | {
        "settings": {"per_kind": per_kind, "seed": seed, "min_cluster_size": min_cluster_size,
                     "router_threshold": head.threshold, "datasets_dir": str(datasets_dir)},
        "seconds": round(time.perf_counter() - started, 1),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def route(items: list[Item], runtime: Runtime, head: RouterHead,
          progress: Progress | None = None) -> tuple[list[str], list[np.ndarray]]:
    """What the router calls each item, and its vector, exactly as `classify` makes them
    (vectors cached on disk by text, as router training caches them)."""
    routed, vectors = [], []
    for i, item in enumerate(items, 1):
        text = item.text[:head.embed_chars]
        vector = (embed_cached(text, runtime) if head.embed_tokens == EMBED_TOKENS
                  else runtime.embed(text, max_tokens=head.embed_tokens))
        routed.append(head.decide(head.probabilities(vector))[0])
        vectors.append(vector)
        if progress and i % 50 == 0:
            progress(f"routed {i}/{len(items)}")
    return routed, vectors


def score(items: list[Item], routed: list[str], unknown: list[int], labels: list[int],
          words: list[list[str]]) -> dict[str, Any]:
    """The figures, from each item's kind, the router's label, and the cluster of each
    unknown item (`labels[j]` for `items[unknown[j]]`, -1: noise)."""
    kinds = list(dict.fromkeys(item.kind for item in items))
    members: dict[int, list[int]] = {}
    for j, label in enumerate(labels):
        if label >= 0:
            members.setdefault(label, []).append(unknown[j])
    clusters = []
    majority_of: dict[int, str] = {}
    for label in sorted(members):
        counts = Counter(items[i].kind for i in members[label])
        kind, n = counts.most_common(1)[0]
        majority_of[label] = kind
        clusters.append({"size": len(members[label]), "majority": kind,
                         "majority_share": round(n / len(members[label]), 3),
                         "kinds": dict(counts.most_common()), "words": words[label]})
    clustered = [unknown[j] for j, label in enumerate(labels) if label >= 0]
    in_majority = {unknown[j] for j, label in enumerate(labels)
                   if label >= 0 and items[unknown[j]].kind == majority_of[label]}
    per_kind = {}
    for kind in kinds:
        of_kind = [i for i, item in enumerate(items) if item.kind == kind]
        per_kind[kind] = {
            "seen_by_router": items[of_kind[0]].seen,
            "documents": len(of_kind),
            "routed": dict(Counter(routed[i] for i in of_kind).most_common()),
            "unknown": sum(routed[i] == doctypes.UNKNOWN for i in of_kind),
            "in_own_cluster": sum(i in in_majority for i in of_kind),
            "coverage": round(sum(i in in_majority for i in of_kind) / len(of_kind), 3),
        }
    unseen = [i for i, item in enumerate(items) if not item.seen]
    return {
        "documents": len(items),
        "unknown": len(unknown),
        "clusters": clusters,
        "purity": round(len(in_majority) / len(clustered), 3) if clustered else None,
        "coverage": round(sum(i in in_majority for i in unseen) / len(unseen), 3)
        if unseen else None,
        "noise_share": round(sum(label < 0 for label in labels) / len(unknown), 3)
        if unknown else None,
        "unseen_kinds_found": sorted({k for k in majority_of.values()
                                      if k in per_kind and not per_kind[k]["seen_by_router"]}),
        "kinds": per_kind,
    }
