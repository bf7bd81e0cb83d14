"""Docket: offline document extraction with a small language model on CPU.

The flow, in order:

- `ingest`: uploads (files, folders, zip archives) → one batch of stored documents, queued
- `convert/`: any supported file → `document.Document`, the one normalized shape
- `classify`: the router: which registered type is this document (or unknown)
- `extract/`: what the model reads (`context`), decoding (`slm/`), lenient `validation` and
  the type's rules, each value's `provenance` and confidence
- `slm/`: the small language model: runtimes, constrained decoding, LoRA adapters
- `process`: one document through every stage: `run_stages` (pure), `process_document`
  (durable: claim, store the run and record, set the status)
- `storage/`: Postgres, the only package that writes SQL
- `queue`, `sweeper`: document ids to the workers; unfinished documents queued again

Around it:

- `doctypes/`: the registry; one package per document type and its labelled datasets
- `api/`: the REST API and the review pages
- `review/`: people's corrections, what the review page shows, page images
- `analytics/`: analysts' queries and exports over the analytics views
- `training/`: datasets, `docket eval`, the router's head, the LoRA adapters
- `cli/`: the `docket` command
- `settings`, `errors`, `document`: configuration, the two kinds of failure, the document shape
"""
