"""Cluster router embeddings and describe each cluster by the words that set it apart.

Why this shape:
- HDBSCAN (scikit-learn's, already a dependency): the number of kinds is not known in
  advance, clusters have different sizes and densities, and most unknown documents may be
  one-offs, which it leaves as noise instead of forcing them into a group.
- The vectors are the router's own (mean of the base model's last hidden layer). Those share
  a large common direction, so they are centred on the set's mean and scaled to unit length
  (differences between documents, compared by angle), then reduced with PCA to a few
  dimensions: density estimates in 640 dimensions are mostly distance noise, and with a
  few hundred documents a handful of directions carries what tells kinds apart.
- Words come from the documents' text, not the vectors: TF-IDF over all the clustered
  documents, and a cluster's words are those whose mean weight in it most exceeds the mean
  in the rest (what this group has that the others do not). Numbers and short tokens are
  left out: they name no kind.
- Deterministic for the same input (fixed PCA seed; HDBSCAN itself is).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_CLUSTER_SIZE = 5
# A document's density is judged by its 2nd nearest neighbour, not its 5th: a kind's
# documents often form a chain of close pairs, which the default (min_cluster_size) would
# dissolve into noise. Chosen on the measurement's mixes (README), like the dimensions.
MIN_SAMPLES = 2
PCA_DIMENSIONS = 8
TOP_WORDS = 8
TEXT_CHARS = 20_000  # of each document for its words: the first pages say what it is
_WORD = r"(?u)\b[^\W\d_]{3,}\b"  # letters only, three or more


@dataclass(frozen=True)
class Cluster:
    size: int
    words: list[str]  # most distinctive first
    members: list[int]  # indices into the input, most central first (HDBSCAN's probability)


@dataclass(frozen=True)
class Clustering:
    clusters: list[Cluster]  # largest first
    noise: list[int]  # indices in no cluster
    labels: list[int]  # per input: index into `clusters`, or -1 for noise


def prepare(vectors: np.ndarray, dimensions: int = PCA_DIMENSIONS) -> np.ndarray:
    """Centre, scale to unit length, reduce with PCA (when there are more dimensions than
    the documents can support)."""
    from sklearn.decomposition import PCA

    x = vectors.astype(np.float64)
    x = x - x.mean(axis=0)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    keep = min(dimensions, x.shape[0] - 1, x.shape[1])
    if keep < x.shape[1] and keep >= 2:
        x = PCA(n_components=keep, random_state=0).fit_transform(x)
    return x


def cluster(vectors: np.ndarray, texts: list[str], min_cluster_size: int = MIN_CLUSTER_SIZE,
            min_samples: int = MIN_SAMPLES, top_words: int = TOP_WORDS) -> Clustering:
    """Group the vectors (one row per document; `texts` gives each one's text for words)."""
    from sklearn.cluster import HDBSCAN

    n = len(texts)
    if n != len(vectors):
        raise ValueError(f"{len(vectors)} vectors for {n} texts")
    if n < max(min_cluster_size, 2):  # too few to find any group
        return Clustering([], list(range(n)), [-1] * n)
    found = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min(min_samples, n),
                    copy=True).fit(prepare(vectors))
    raw = found.labels_
    groups = sorted({int(label) for label in raw if label >= 0},
                    key=lambda label: (-int(np.sum(raw == label)), label))
    words = distinctive_words(texts, [[i for i in range(n) if raw[i] == g] for g in groups],
                              top_words)
    clusters = []
    for g, top in zip(groups, words, strict=True):
        members = [i for i in range(n) if raw[i] == g]
        members.sort(key=lambda i: (-float(found.probabilities_[i]), i))
        clusters.append(Cluster(len(members), top, members))
    renumber = {g: k for k, g in enumerate(groups)}
    labels = [renumber.get(int(label), -1) for label in raw]
    return Clustering(clusters, [i for i in range(n) if labels[i] < 0], labels)


def distinctive_words(texts: list[str], groups: list[list[int]], top: int = TOP_WORDS
                      ) -> list[list[str]]:
    """For each group of text indices, the words whose mean TF-IDF weight in the group most
    exceeds their mean weight in the other texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not groups:
        return []
    vectorizer = TfidfVectorizer(token_pattern=_WORD, stop_words="english", lowercase=True,
                                 sublinear_tf=True, min_df=2 if len(texts) >= 10 else 1,
                                 max_features=50_000, dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform([t[:TEXT_CHARS] for t in texts]).tocsr()
    except ValueError:  # no words at all (e.g. only numbers)
        return [[] for _ in groups]
    vocabulary = vectorizer.get_feature_names_out()
    total = np.asarray(matrix.sum(axis=0)).ravel()
    out = []
    for members in groups:
        inside = np.asarray(matrix[members].sum(axis=0)).ravel()
        rest = len(texts) - len(members)
        score = inside / len(members) - ((total - inside) / rest if rest else 0.0)
        best = [int(i) for i in np.argsort(-score, kind="stable")[:top] if score[i] > 0]
        out.append([str(vocabulary[i]) for i in best])
    return out
