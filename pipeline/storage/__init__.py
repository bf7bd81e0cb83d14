"""Postgres: the only package that writes SQL.

`db` connections and migrations; `documents` batches, original bytes, conversions and the
status of each document; `records` extraction runs and the typed record tables (one
definition of a document's latest run); `reviews` corrections, training examples and the
review list; `keys` API keys; `analytics` analysts' reads of the analytics views (filters,
sort, pages, streams, aggregates) and the read-only runner of `docket query`.
"""
