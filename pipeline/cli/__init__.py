"""The `docket` command, assembled from one module per concern:

- `documents`: migrate, ingest, run, status, extract, requeue, reprocess, worker, api
- `models`: model prepare, router train | eval, adapters list | show | train | eval, eval
- `keys`: keys create | list | revoke
- `webhooks`: webhooks worker | deliveries
- `scrub`: scrub text | eval (personal data out of training examples)
- `training`: training worker | run | status (retraining on corrections by itself)
- `types`: types suggest | measure (new kinds among what the router calls unknown)
- `analysts`: query, export
- `common`: the consoles, the progress bar and the options they share

Each command imports what it needs inside itself, so that `docket --help` stays fast.
"""

from __future__ import annotations

import os

import typer

from pipeline.cli import (
    analysts,
    documents,
    keys,
    models,
    scrub,
    training,
    types,
    webhooks,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may come from a model hub at run time

app = typer.Typer(help="Docket: offline document extraction on CPU.", no_args_is_help=True)
app.command()(documents.migrate)
app.command("eval")(models.eval_command)
app.command()(documents.ingest)
app.command()(documents.run)
app.command()(documents.status)
app.command()(documents.extract)
app.command()(documents.worker)
app.command()(documents.api)
app.command()(documents.requeue)
app.command()(documents.reprocess)
app.command("query")(analysts.query)
app.command("export")(analysts.export)
app.add_typer(models.model_app, name="model")
app.add_typer(models.router_app, name="router")
app.add_typer(models.adapters_app, name="adapters")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(webhooks.webhooks_app, name="webhooks")
app.add_typer(scrub.scrub_app, name="scrub")
app.add_typer(training.training_app, name="training")
app.add_typer(types.types_app, name="types")

__all__ = ["app"]
