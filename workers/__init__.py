"""Celery workers: a thin shell around `pipeline.process`."""
