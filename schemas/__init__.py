"""Pydantic record models, one module per document type, with their business rules.

Each type has two models: a *draft* (what the language model writes: short strings copied
from the document, bounded so decoding always ends) and a *record* (typed, validated, what
analysts query). `to_record(draft)` turns one into the other and names every rule it breaks.
"""
