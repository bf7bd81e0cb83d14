"""What analysts read: records through the `analytics` views.

`query` filters, sorts, pages, streams and aggregates records (one query model for the API,
`docket export` and the benchmark); `exports` streams them as CSV or Parquet.
"""
