"""Docket: offline document extraction with a small language model on CPU."""
