"""New kinds of documents: group what the router could not place, so an admin sees them.

A document the router calls `unknown` keeps the router's embedding of it
(`pipeline.storage.embeddings`, written by the worker at no extra forward pass). Clustering
those vectors (`cluster`) and describing each group by its distinctive words and a few of its
documents (`suggest`) turns a pile of failed uploads into "here are 40 purchase orders":
the start of a new type (`pipeline/doctypes/<type>/`). `docket types suggest`, the admin page
`/review/types` and `GET /v1/types/suggestions` show the same groups; `docket types measure`
(`pipeline.training.new_kinds_eval`) measures how well it works.
"""
