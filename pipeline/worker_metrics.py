"""A worker's metrics for Prometheus, served by its main process at
`DOCKET_WORKER_METRICS_PORT` (unset: none).

Celery's pool processes do the work, so prometheus-client runs in its multiprocess mode: each
process writes its samples to files in a directory `docket worker` makes (and names in
`PROMETHEUS_MULTIPROC_DIR` before anything imports prometheus-client, which reads it at
import), and the main process serves all of them. Outside a worker (the CLI, tests) the same
calls count in-process.
"""

from __future__ import annotations

import os
import resource
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

DOCUMENTS = Counter("docket_worker_documents", "Documents a worker finished, by status "
                    "(done, needs_review, failed) and type", ["status", "document_type"])
STAGE_SECONDS = Histogram(
    "docket_stage_seconds", "Seconds a document spent in each stage "
    "(convert, classify, extract, store)", ["stage"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128))
DECODE_TOKENS_PER_S = Histogram(
    "docket_decode_tokens_per_second", "The model's answer, tokens a second, per document",
    buckets=(10, 25, 50, 75, 100, 150, 200, 300, 500))
RETRIES = Counter("docket_task_retries", "Tasks retried after a transient error (database)")
REDELIVERIES = Counter("docket_redeliveries", "Documents started again after an attempt that "
                       "never finished (a killed worker)")
RSS_BYTES = Gauge("docket_worker_peak_rss_bytes", "Peak resident memory of each pool process",
                  multiprocess_mode="liveall")


def observe(status: str, document_type: str | None, timings_ms: dict[str, float],
            tokens_per_s: float | None, attempts: int) -> None:
    """Count a finished document and what its stages took."""
    DOCUMENTS.labels(status, document_type or "").inc()
    for stage in ("convert", "classify", "extract", "store"):
        if stage in timings_ms:
            STAGE_SECONDS.labels(stage).observe(timings_ms[stage] / 1000)
    if tokens_per_s:
        DECODE_TOKENS_PER_S.observe(tokens_per_s)
    if attempts > 1:
        REDELIVERIES.inc()
    RSS_BYTES.set(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def serve(port: int) -> Any:
    """Serve every pool process's samples over HTTP from this (the main) process."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return start_http_server(port, registry=registry)


def process_died(pid: int) -> None:
    """Drop a finished pool process's live gauges."""
    from prometheus_client import multiprocess

    if MULTIPROC_ENV in os.environ:
        multiprocess.mark_process_dead(pid)
