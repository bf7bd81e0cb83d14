"""New kinds of documents on real parts: the worker keeps the router's vector of a document
it could not place (and erasure takes it away), the real model embeds documents that have
none, HDBSCAN groups two kinds Docket has no type for (Python source, Debian copyright files)
apart from each other, their words say what they are, and the admin
page and JSON route show them to admins only."""

from __future__ import annotations

import random
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient

from pipeline import doctypes
from pipeline.api import app
from pipeline.storage import documents, embeddings
from pipeline.storage.db import connect
from tests.conftest import SAMPLES, headers

PER_KIND = 10
STDLIB = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"


def _python_sources() -> list[Path]:
    """Modules of the standard library (always on the machine, never router training data)."""
    found = sorted(p for p in STDLIB.glob("*.py") if 4_000 < p.stat().st_size < 60_000)
    return random.Random(0).sample(found, PER_KIND)


def _copyright_files() -> list[Path]:
    """Debian packages' machine-readable copyright files (router training leaves them out)."""
    distinct: dict[bytes, Path] = {}  # a source package's binaries share one file
    for p in sorted(Path("/usr/share/doc").glob("*/copyright")):
        if p.is_file() and not p.is_symlink() and 1_500 < p.stat().st_size < 60_000 \
                and p.read_bytes().startswith(b"Format:"):
            distinct.setdefault(p.read_bytes(), p)
    found = sorted(distinct.values())
    if len(found) < PER_KIND:
        pytest.skip("too few Debian copyright files on this machine")
    return random.Random(0).sample(found, PER_KIND)


def _store_unknown(conn: psycopg.Connection, name: str, data: bytes, settings: Any
                   ) -> uuid.UUID:
    """A document as the worker leaves one the router could not place, but without a vector:
    converted, typed unknown, failed (as one processed before vectors were kept)."""
    from pipeline.convert import convert

    stored = documents.add_document(conn, documents.create_batch(conn, "test"), name, data)
    with conn.transaction():
        documents.save_conversion(conn, stored.document_id, convert(data, name, settings))
        documents.set_document_type(conn, stored.document_id, doctypes.UNKNOWN)
        documents.set_status(conn, stored.document_id, documents.Status.FAILED, "unknown type")
    return stored.document_id


@pytest.fixture(scope="module")
def mix(database: str, settings: Any) -> dict[str, list[str]]:
    """Ten Python modules, ten copyright files and three known samples, stored as unknown."""
    kinds: dict[str, list[str]] = {"python": [], "copyright": [], "known": []}
    tag = uuid.uuid4().hex[:8]  # new bytes each run: never a duplicate of an earlier upload
    with connect(database) as conn:
        for path in _python_sources():
            data = path.read_bytes() + f"\n# {tag}\n".encode()
            kinds["python"].append(str(_store_unknown(conn, path.name, data, settings)))
        for path in _copyright_files():
            data = path.read_bytes() + f"\n{tag}\n".encode()
            name = f"{path.parent.name}-copyright.txt"
            kinds["copyright"].append(str(_store_unknown(conn, name, data, settings)))
        for name in ("receipt-bookshop.pdf", "contract-nda.pdf", "datasheet-env-sensor.md"):
            from pipeline.convert import convert

            document = convert((SAMPLES / name).read_bytes(), name, settings)
            data = document.text().encode() + f"\n{tag}\n".encode()
            kinds["known"].append(str(_store_unknown(conn, f"{name}.txt", data, settings)))
    return kinds


@pytest.fixture(scope="module")
def suggested(mix: dict[str, list[str]], database: str, runtime: Any) -> Any:
    """`docket types suggest`'s work: embed the documents without a vector, then cluster."""
    from pipeline.new_kinds.suggest import suggest

    with connect(database) as conn:
        return suggest(conn, runtime, min_cluster_size=4)


def test_the_worker_keeps_the_routers_vector_of_an_unknown_document_and_erasure_drops_it(
    database: str, runtime: Any, settings: Any,
) -> None:
    from pipeline.classify import get_head
    from pipeline.process import process_document
    from pipeline.storage.lifecycle import erase_document

    data = (STDLIB / "json" / "decoder.py").read_bytes() + f"\n# {uuid.uuid4()}\n".encode()
    with connect(database) as conn:
        stored = documents.add_document(conn, documents.create_batch(conn, "test"),
                                        "decoder.py", data)
    assert process_document(stored.document_id, runtime, settings) == documents.Status.FAILED
    with connect(database) as conn:
        row = conn.execute("SELECT document_type, text FROM documents WHERE id = %s",
                           (stored.document_id,)).fetchone()
        assert row is not None and row["document_type"] == doctypes.UNKNOWN
        kept = conn.execute("SELECT model_sha256, embedding FROM document_embeddings "
                            "WHERE document_id = %s", (stored.document_id,)).fetchone()
        assert kept is not None and kept["model_sha256"] == runtime.model_sha256
        head = get_head()
        again = runtime.embed(row["text"][:head.embed_chars], max_tokens=head.embed_tokens)
        vector = embeddings.from_bytes(bytes(kept["embedding"]))
        assert vector.shape == again.shape and np.allclose(vector, again, atol=1e-4)

        assert erase_document(conn, stored.document_id, "test", None)
        gone = conn.execute("SELECT count(*) AS n FROM document_embeddings "
                            "WHERE document_id = %s", (stored.document_id,)).fetchone()
        assert gone is not None and gone["n"] == 0


def _group_of(suggested: Any, ids: list[str]) -> Any:
    """The group holding most of these documents."""
    return max(suggested.clusters, key=lambda g: len(set(g.document_ids) & set(ids)))


def test_unknown_documents_group_by_kind_with_words_that_say_what_they_are(
    suggested: Any, mix: dict[str, list[str]], database: str, runtime: Any,
) -> None:
    assert suggested.embedded_now >= 2 * PER_KIND + 3  # none of the mix had a vector
    python = _group_of(suggested, mix["python"])
    copyright = _group_of(suggested, mix["copyright"])
    assert python is not copyright
    assert len(set(python.document_ids) & set(mix["python"])) >= PER_KIND - 2
    assert len(set(copyright.document_ids) & set(mix["copyright"])) >= PER_KIND - 2
    assert not set(python.document_ids) & set(mix["copyright"] + mix["known"])
    assert not set(copyright.document_ids) & set(mix["python"])
    # Around other tests' leftovers (one-line unknown documents such as "ok unique-2", which
    # at this size HDBSCAN merges into the copyright group), the separation above holds. The
    # mix alone (the most recent unknown documents) shows what an admin reads: words, and
    # samples that are the group's own. Three lone known documents make no group; where one
    # joins the prose-like group, it is less central than every copyright file.
    from pipeline.new_kinds.suggest import suggest

    with connect(database) as conn:
        own = suggest(conn, None, min_cluster_size=4, limit=2 * PER_KIND + 3)
    assert own.unknown_documents == 2 * PER_KIND + 3  # the mix, and nothing else
    assert {i for g in own.clusters for i in g.document_ids} <= \
        {i for ids in mix.values() for i in ids}
    python = _group_of(own, mix["python"])
    copyright = _group_of(own, mix["copyright"])
    assert python is not copyright
    last_copyright = max(copyright.document_ids.index(i) for i in mix["copyright"]
                         if i in copyright.document_ids)
    assert all(copyright.document_ids.index(i) > last_copyright
               for i in mix["known"] if i in copyright.document_ids)
    assert {"self", "return", "def", "import", "none", "true"} & set(python.words), python.words
    assert {"license", "copyright", "files", "permission"} & set(copyright.words), \
        copyright.words
    sample = copyright.samples[0]
    assert sample.id in copyright.document_ids and sample.filename.endswith("-copyright.txt")
    assert sample.first_line.startswith("Format:")
    with connect(database) as conn:  # the vectors made now were kept: no model next time
        again = suggest(conn, None, min_cluster_size=4)
    assert again.embedded_now == 0 and again.waiting == 0
    assert [g.document_ids for g in again.clusters] == \
        [g.document_ids for g in suggested.clusters]


def test_admins_see_the_groups_on_a_page_and_as_json_others_are_refused(
    suggested: Any, mix: dict[str, list[str]], api_keys: dict[str, str],
) -> None:
    admin = TestClient(app, headers=headers(api_keys, "admin"))
    page = admin.get("/review/types", params={"min_cluster_size": 4})
    assert page.status_code == 200, page.text
    assert 'id="type-suggestions"' in page.text
    copyright = _group_of(suggested, mix["copyright"])
    assert f'href="/review/documents/{copyright.samples[0].id}"' in page.text
    assert ", ".join(copyright.words[:3]) in page.text
    assert admin.get(f"/review/documents/{copyright.samples[0].id}").status_code == 200
    listing = admin.get("/review")
    assert 'href="/review/types"' in listing.text  # linked from the list for admins

    answer = admin.get("/v1/types/suggestions", params={"min_cluster_size": 4})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["waiting"] == 0 and body["clustered"] >= 2 * PER_KIND + 3
    groups = {tuple(g["document_ids"]) for g in body["clusters"]}
    assert tuple(copyright.document_ids) in groups

    for role in ("reviewer", "uploader", "analyst"):
        client = TestClient(app, headers=headers(api_keys, role))
        refused = client.get("/review/types")
        assert refused.status_code == 403 and 'id="forbidden"' in refused.text
        assert client.get("/v1/types/suggestions").status_code == 403
    reviewer = TestClient(app, headers=headers(api_keys, "reviewer"))
    assert 'href="/review/types"' not in reviewer.get("/review").text
    assert TestClient(app).get("/v1/types/suggestions").status_code == 401


def test_a_document_processed_into_a_type_loses_its_old_vector(
    database: str, runtime: Any, settings: Any,
) -> None:
    """A document once unknown, processed again with a type (a hint, a better router), is no
    new kind any more: its vector is dropped."""
    from pipeline.process import process_document

    data = (SAMPLES / "receipt-cafe.png").read_bytes() + uuid.uuid4().bytes
    with connect(database) as conn:
        stored = documents.add_document(conn, documents.create_batch(conn, "test"),
                                        "receipt-cafe.png", data, "receipt")
        embeddings.save(conn, stored.document_id, runtime.model_sha256,
                        np.ones(8, dtype=np.float32))
    assert process_document(stored.document_id, runtime, settings) != documents.Status.FAILED
    with connect(database) as conn:
        left = conn.execute("SELECT count(*) AS n FROM document_embeddings "
                            "WHERE document_id = %s", (stored.document_id,)).fetchone()
    assert left is not None and left["n"] == 0
