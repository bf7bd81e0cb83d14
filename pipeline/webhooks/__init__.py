"""Webhooks: events about documents and batches, signed and sent to the URLs that asked.

- `pipeline.storage.webhooks`: subscriptions, and the outbox the status changes write to;
- `targets`: which URLs may be called (http/https; internal addresses only when allow-listed);
- `signing`: the `Docket-Signature` header, and `verify` for receivers;
- `delivery`: one attempt of one delivery, and the dispatcher that hands out what is due;
- `workers.webhook_app`: the Celery worker (`docket webhooks worker`) that sends them, apart
  from the extraction workers, so a slow receiver never slows extraction.
"""
