"""Postgres, and the only package that writes SQL (apart from the analysts' query builder,
`pipeline.analytics.query`, and the read-only SQL runner of `docket query`).

`db` connections and migrations; `documents` batches, original bytes, conversions and the
status of each document; `records` extraction runs and the typed record tables (one
definition of a document's latest run); `reviews` corrections, training examples and the
review list; `keys` API keys.
"""
