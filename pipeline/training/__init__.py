"""Learning and measuring: only the CLI imports this package, and inference (`pipeline.slm`)
never does (tests/test_import_graph.py).

`datasets`: the labelled datasets, read through Docket's own conversion (cached); `evaluation`:
`docket eval`, the whole pipeline on a dev split; `router`: the type router's head; `job`,
`data`, `targets`, `corrections` and `lora`: what an adapter learns from, and how.
"""
