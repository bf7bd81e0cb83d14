"""What analysts take away: records streamed as CSV or Parquet (`exports`).

Their queries (filters, sort, pages, aggregates over the analytics views) are SQL, so they live
in `pipeline.storage.analytics`.
"""
