"""The router's embedding of each document it could not place (`document_embeddings`).

Why keep them: a document the router calls unknown may be the first of a kind Docket has no
type for yet (purchase orders, delivery notes). `pipeline.new_kinds` clusters these vectors
to show an admin such groups. The worker already computed the vector to route the document,
so storing it costs one row, not a second forward pass. Each row names the base weights
(`model_sha256`) that made it: vectors of other weights do not compare and are re-made.

The row goes with its document (ON DELETE CASCADE), so an erased document leaves nothing
here; a document reprocessed into a known type loses its row (`forget`).
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
from psycopg import Connection


def to_bytes(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").copy()


def save(conn: Connection[Any], document_id: uuid.UUID, model_sha256: str,
         vector: np.ndarray) -> None:
    """Keep (or replace) the document's embedding."""
    conn.execute(
        """INSERT INTO document_embeddings (document_id, model_sha256, embedding)
           VALUES (%s, %s, %s)
           ON CONFLICT (document_id) DO UPDATE
           SET model_sha256 = EXCLUDED.model_sha256, embedding = EXCLUDED.embedding,
               created_at = now()""",
        (document_id, model_sha256, to_bytes(vector)),
    )


def forget(conn: Connection[Any], document_id: uuid.UUID) -> None:
    """The document is no longer unknown (reprocessed, or given a type): drop its row."""
    conn.execute("DELETE FROM document_embeddings WHERE document_id = %s", (document_id,))


TEXT_CHARS = 20_000  # of each document's text: more than the router and the words read


def unknown_documents(conn: Connection[Any], model_sha256: str, unknown: str,
                      limit: int) -> list[dict[str, Any]]:
    """The most recent documents the router called `unknown`, with their text and their
    embedding by these weights (None where there is none yet, or only another model's)."""
    rows = conn.execute(
        """SELECT d.id, d.filename, left(d.text, %s) AS text, d.created_at,
                  CASE WHEN e.model_sha256 = %s THEN e.embedding END AS embedding
           FROM documents d LEFT JOIN document_embeddings e ON e.document_id = d.id
           WHERE d.document_type = %s AND d.text IS NOT NULL
           ORDER BY d.created_at DESC, d.id LIMIT %s""",
        (TEXT_CHARS, model_sha256, unknown, limit),
    ).fetchall()
    for row in rows:
        if row["embedding"] is not None:
            row["embedding"] = from_bytes(bytes(row["embedding"]))
    return rows
