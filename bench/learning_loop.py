"""One retraining run on real reviews, as the trainer runs it, with its timings and the gate's
figures: the current version beside the candidate, field by field.

    .venv/bin/python -m bench.learning_loop --dataset sroie --documents 20
    .venv/bin/python -m bench.learning_loop --dataset sroie --documents 5 --eval 5   # a quick look

In a scratch database (`docket_loop`, made afresh): the first `--documents` train documents of
the dataset are uploaded and processed by the real pipeline, then "reviewed": each labelled
field the model got wrong is corrected to the dataset's label, through the same code as the
review page (`pipeline.review.apply_corrections`). Then `pipeline.training.retraining.run`
does what the trainer does on its schedule: scrub the reviewed documents, continue the type's
current adapter on them, store the version and put it through the gate (the first `--eval`
dev documents of each of the type's datasets). Printed: seconds per stage, the corrections
made, what was scrubbed, the gate's table and the decision. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time

DB = "docket_loop"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["DOCKET_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{DB}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--eval", type=int, default=20, help="dev documents for the gate")
    args = parser.parse_args()
    os.environ["DOCKET_RETRAIN_EVAL_DOCUMENTS"] = str(args.eval)

    import psycopg

    from pipeline import doctypes
    from pipeline.document import Document
    from pipeline.process import process_document
    from pipeline.review import apply_corrections
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime
    from pipeline.storage import adapter_versions, records, training_runs
    from pipeline.storage.db import connect, migrate
    from pipeline.storage.documents import add_document, create_batch
    from pipeline.storage.keys import create_key
    from pipeline.training import datasets, retraining

    settings = get_settings()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB}")
    migrate(settings.database_url)
    data = doctypes.dataset(args.dataset)
    doctype = doctypes.get(data.doc_type)
    runtime = get_runtime(settings)
    sources = [s for s in datasets.labelled_sources(args.dataset)
               if s.split == "train"][: args.documents]
    with connect() as conn:
        reviewer, _ = create_key(conn, "bench-reviewer", "reviewer")

    started = time.perf_counter()
    edits_made = 0
    for source in sources:
        with connect() as conn:
            stored = add_document(conn, create_batch(conn, "bench"), source.filename,
                                  source.path.read_bytes(), data.doc_type)
        process_document(stored.document_id, runtime, settings)
        with connect() as conn:
            run = records.latest_run(conn, stored.document_id, ("record",))
            document = conn.execute("SELECT content FROM documents WHERE id = %s",
                                    (stored.document_id,)).fetchone()
            assert run is not None and document is not None
            text = Document.model_validate(document["content"]).text() \
                if document["content"] else ""
            target, _ = data.target(source.labels, text)
            wrong = [path for path, right in data.score(source.labels, run["record"] or {})
                     .correct.items() if not right]
            edits = {path: str(target[path]) for path in wrong  # as printed, as a reviewer types
                     if isinstance(target.get(path), str | int | float)}
            apply_corrections(conn, stored.document_id, edits, reviewer)
            edits_made += len(edits)
    reviewed_s = time.perf_counter() - started

    outcome = retraining.run(str(doctype.adapter), settings, lambda: runtime, "bench")
    with connect() as conn:
        [row] = [r for r in training_runs.listing(conn) if r["id"] == outcome.run_id]
        version = adapter_versions.get(conn, str(doctype.adapter), outcome.version or 0)
        decisions = adapter_versions.history(conn, str(doctype.adapter))
    training = version["manifest"]["training"] if version else {}
    comparison = decisions[-1]["comparison"] if decisions else None
    print(f"{len(sources)} {data.doc_type}s processed and reviewed in {reviewed_s:.0f} s "
          f"({edits_made} values corrected)")
    print(f"run {outcome.run_id}: {outcome.status}: {outcome.reason}")
    print("seconds per stage: " + ", ".join(f"{k} {row['stage_seconds'][k]:.0f}"
                                             for k in training_runs.STAGES
                                             if k in row["stage_seconds"]))
    print(f"examples: {training.get('corrections')}, scrubbed: {training.get('scrubbed')}, "
          f"final loss: {training.get('final_loss')}")
    if comparison:
        print(f"{'field':40} {'current':>8} {'candidate':>9} {'ratio':>6}")
        for field, pair in comparison["fields"].items():
            ratio = (pair["candidate"] / pair["current"]) if pair["current"] else float("nan")
            print(f"{field:40} {pair['current']:8.3f} {pair['candidate'] or 0:9.3f} "
                  f"{ratio:6.2f}")
    print(json.dumps({"status": outcome.status, "documents": len(sources),
                      "corrected_values": edits_made, "review_s": round(reviewed_s),
                      "stage_seconds": row["stage_seconds"], "scrubbed": training.get("scrubbed"),
                      "fields": comparison["fields"] if comparison else None}))


if __name__ == "__main__":
    main()
