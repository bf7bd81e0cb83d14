"""Suggest new document types from the documents the router called unknown.

One function serves the CLI, the admin page and the JSON route, so all three show the same
groups. Why it works the way it does:
- Vectors are the router's (`document_embeddings`). Documents without one (processed before
  vectors were kept, or by other base weights) are embedded here, as `classify` would, and
  stored, when a runtime is given (`docket types suggest`); the API never loads the model, so
  it clusters what is stored and says how many documents wait for a vector.
- Which weights count is read from the router head (`adapters/router/`), which is tied to
  the base weights: no model load is needed to know it.
- At most `limit` of the most recent unknown documents: a new kind shows in what came in
  lately, and clustering stays fast.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from psycopg import Connection

from pipeline import doctypes
from pipeline.classify import RouterHead, get_head
from pipeline.new_kinds.cluster import MIN_CLUSTER_SIZE, TOP_WORDS, cluster
from pipeline.slm.runtime import Runtime
from pipeline.storage import embeddings

log = logging.getLogger(__name__)

LIMIT = 2000
SAMPLES = 3
FIRST_LINE_CHARS = 120


@dataclass(frozen=True)
class Sample:
    id: str
    filename: str
    first_line: str


@dataclass(frozen=True)
class Suggestion:
    size: int
    words: list[str]
    samples: list[Sample]
    document_ids: list[str]  # every member, most central first: the new type's first data


@dataclass(frozen=True)
class Suggestions:
    unknown_documents: int  # the router's unknown documents looked at
    clustered: int  # of those, how many had a vector and were clustered
    embedded_now: int  # vectors made by this call (documents that had none)
    waiting: int  # documents without a vector that this call could not embed (no runtime)
    noise: int  # clustered documents in no group (one-offs)
    min_cluster_size: int
    clusters: list[Suggestion]  # largest first

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def first_line(text: str) -> str:
    """The first line that says something (a letter or digit: not a docstring's opening
    quotes or a rule of dashes), cut for a table."""
    for line in text.splitlines():
        if any(ch.isalnum() for ch in line):
            line = " ".join(line.split())
            return line if len(line) <= FIRST_LINE_CHARS else line[:FIRST_LINE_CHARS - 1] + "…"
    return ""


def embed(text: str, runtime: Runtime, head: RouterHead) -> np.ndarray:
    """The vector `classify` makes of a document whose text this is."""
    return runtime.embed(text[:head.embed_chars], max_tokens=head.embed_tokens)


def suggest(conn: Connection[Any], runtime: Runtime | None = None,
            min_cluster_size: int = MIN_CLUSTER_SIZE, samples: int = SAMPLES,
            limit: int = LIMIT, top_words: int = TOP_WORDS) -> Suggestions:
    """Cluster the recent unknown documents; embed (and keep) missing vectors if `runtime`."""
    head = get_head()
    if runtime is not None:
        head.check_runtime(runtime)
    rows = embeddings.unknown_documents(conn, head.model_sha256, doctypes.UNKNOWN, limit)
    embedded_now = waiting = 0
    for row in rows:
        if row["embedding"] is not None:
            continue
        if runtime is None:
            waiting += 1
            continue
        vector = embed(row["text"], runtime, head)
        with conn.transaction():
            embeddings.save(conn, row["id"], runtime.model_sha256, vector)
        row["embedding"] = vector
        embedded_now += 1
    ready = [row for row in rows if row["embedding"] is not None]
    if embedded_now:
        log.info("embedded %d unknown documents that had no vector", embedded_now)
    if not ready:
        return Suggestions(len(rows), 0, embedded_now, waiting, 0, min_cluster_size, [])
    found = cluster(np.stack([row["embedding"] for row in ready]),
                    [row["text"] for row in ready], min_cluster_size, top_words=top_words)
    clusters = [
        Suggestion(group.size, group.words, [
            Sample(str(ready[i]["id"]), ready[i]["filename"], first_line(ready[i]["text"]))
            for i in group.members[:samples]],
            [str(ready[i]["id"]) for i in group.members])
        for group in found.clusters
    ]
    return Suggestions(len(rows), len(ready), embedded_now, waiting, len(found.noise),
                       min_cluster_size, clusters)
