"""Prometheus metrics at `/metrics` (no key: aggregates only, for a scraper on the internal
network).

- the API's requests by route, method and status class, and their durations
  (prometheus-fastapi-instrumentator);
- files received, by outcome (`docket_uploads_total`);
- read from Postgres and Redis at scrape time, so any API replica gives the same figures
  whichever worker did the work: documents by status and type (`docket_documents`) and the
  messages waiting in the queue (`docket_queue_depth`), webhook events by delivery status
  (`docket_webhook_deliveries`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import psycopg
import redis
from fastapi import FastAPI
from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator

from pipeline.settings import get_settings
from pipeline.storage import webhooks
from pipeline.storage.db import connect

log = logging.getLogger(__name__)

UPLOADS = Counter("docket_uploads", "Files received by the API, by outcome: stored (new), "
                  "duplicate (the same bytes as an earlier document), refused", ["outcome"])


class PipelineCollector(Collector):
    """Documents by status and type, and the queue's depth, as the database and broker say."""

    def collect(self) -> Iterator[Metric]:
        from pipeline.sweeper import broker_backlog

        documents = GaugeMetricFamily("docket_documents", "Documents by status and type",
                                      labels=["status", "document_type"])
        deliveries = GaugeMetricFamily(
            "docket_webhook_deliveries", "Webhook events by delivery status: pending (to "
            "try, or waiting to retry), delivered, failed (every retry used)", labels=["status"])
        try:
            with connect() as conn:
                rows = conn.execute(
                    """SELECT status, coalesce(document_type, '') AS document_type,
                              count(*) AS n FROM documents GROUP BY 1, 2""").fetchall()
                for status, n in webhooks.counts(conn).items():
                    deliveries.add_metric([status], n)
            for row in rows:
                documents.add_metric([row["status"], row["document_type"]], row["n"])
        except psycopg.Error as exc:
            log.warning("metrics: documents not counted: %s", exc)
        yield documents
        yield deliveries
        queue = GaugeMetricFamily("docket_queue_depth", "Messages waiting in the broker's queue")
        try:
            queue.add_metric([], broker_backlog(get_settings().broker_url))
        except redis.RedisError as exc:
            log.warning("metrics: queue depth unknown: %s", exc)
        yield queue


REGISTRY.register(PipelineCollector())  # once per process: at this module's import


def install(app: FastAPI) -> None:
    """Instrument the app's requests and serve every metric at /metrics."""
    Instrumentator(excluded_handlers=["/metrics"]).instrument(app).expose(
        app, include_in_schema=False)
