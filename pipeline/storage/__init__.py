"""Postgres: originals, documents, batches, extraction runs and the typed record tables."""
