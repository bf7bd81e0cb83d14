"""Benchmarks: each prints ours vs a reference side by side, as ratios, in one run."""
