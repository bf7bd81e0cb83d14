"""All configuration in one place, read from the environment (prefix `DOCKET_`) or `.env`.

A worker on another machine needs only `DOCKET_DATABASE_URL` and `DOCKET_BROKER_URL`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCKET_", env_file=".env", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:5432/docket"
    broker_url: str = "redis://127.0.0.1:6379/0"
    retention_days: int | None = Field(
        default=None, ge=1,
        description="erase the originals of finished documents uploaded more than this many "
        "days ago, keeping their records (the workers apply it at each sweep); unset: keep all")
    extract_wait_s: float = Field(
        default=60, ge=0,
        description="how long POST /v1/extract waits for the record before answering 202")
    extract_max_wait_s: float = Field(
        default=300, ge=0, description="the longest wait a POST /v1/extract caller may ask for "
        "(longer asks wait this long): how long a request may hold a connection")
    worker_metrics_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="serve a worker's Prometheus metrics on this port (unset: not served)")
    retry_after_s: int = Field(
        default=30,
        description="the Retry-After the API answers, in seconds, while the database or the "
        "queue is down")
    public_url: str = Field(
        default="", description="the API's address as callers reach it (https://docket.example); "
        "webhook events link to records under it (empty: links are paths)")
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="hosts webhooks may call (`*.example.com` for a domain's hosts); empty: any "
        "host whose addresses are all public. A listed host may be internal (a callback to an "
        "internal address is otherwise refused: it is a server-side request forgery risk)")
    webhook_retry_schedule_s: Annotated[list[float], NoDecode] = Field(
        default=[10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200],
        description="the waits between a failed delivery and its next attempt (the last "
        "failure after them ends the delivery `failed`); the default retries for 28 hours")
    webhook_timeout_s: float = Field(
        default=10, gt=0, description="how long a receiver has to answer one delivery")
    webhook_concurrency: int = Field(
        default=8, ge=1, description="deliveries a webhook worker makes at once (threads)")
    webhook_dispatch_interval_s: float = Field(
        default=2, gt=0, description="how often a webhook worker looks for deliveries due")
    scrub_key: str = Field(
        default="", description="keys the surrogates that replace personal data in training "
        "examples: the same original gets the same surrogate in every run (empty: a new key "
        "each run, so surrogates match only within one)")
    retrain_min_corrections: int = Field(
        default=20, ge=0, description="a type's adapter is retrained once this many reviewed "
        "documents arrived since its last training run (0: never on a schedule)")
    retrain_adapters: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="the adapters retrained on the schedule, comma "
        "separated (empty: every type's)")
    retrain_window: str = Field(
        default="01:00-05:00",
        description="when scheduled retraining may start, HH:MM-HH:MM in retrain_timezone "
        "(it may cross midnight; empty: any time)")
    retrain_timezone: str = Field(default="UTC", description="the zone of retrain_window")
    retrain_check_s: float = Field(
        default=600, gt=0, description="how often the trainer looks for a type to retrain")
    retrain_epochs: float = Field(
        default=1.0, gt=0, description="passes over the corrections in a retraining run")
    retrain_learning_rate: float = Field(
        default=2e-4, gt=0, description="a retraining run's peak learning rate")
    retrain_eval_documents: int = Field(
        default=20, ge=1, description="dev documents of each of the type's datasets the gate "
        "compares the new version and the current one on")
    retrain_margin: float = Field(
        default=0.02, ge=0, description="the gate refuses a new version when any labelled field "
        "is worse than the current version's by more than this")
    retrain_stale_s: float = Field(
        default=1800, gt=0, description="a training run with no progress for this long is "
        "taken for dead (its trainer stopped) and marked failed")
    review_session_hours: float = Field(
        default=12, gt=0, description="how long a review page sign-in lasts")
    analyst_database_url: str | None = Field(
        default=None,
        description="read-only connection for `docket query`; default: database_url as the "
        "docket_analyst role (created by the migrations)",
    )

    model: Literal["gemma-3-270m", "smollm2-135m"] = "gemma-3-270m"
    model_cache_dir: Path = Field(default=Path.home() / ".cache" / "docket" / "models")
    runtime: Literal["onnx", "torch"] = Field(
        default="onnx", description="onnx: int8 ONNX Runtime (serving); torch: eager fp32 "
        "transformers (the training path, and the reference)")
    candidate_logits: bool = Field(
        default=True, description="onnx: score only the document's, JSON's and schema's "
        "tokens each step (False: the whole 262k vocabulary)")
    speculative: bool = Field(
        default=True, description="write the tokens the grammar dictates and drafts copied "
        "from the document in one model pass, kept only where greedy decoding agrees (the "
        "output is greedy's, token for token); False: one pass a token")
    model_threads: int = Field(default=0, description="inference threads; 0 = all cores")
    max_new_tokens: int | None = Field(
        default=None, description="the answer's token budget for every type (default: each "
        "type's own, DocType.output_tokens)")
    max_prompt_chars: int = 6000
    repetition_penalty: float = Field(
        default=1.3, description="on words already written in earlier values (see runtime)"
    )

    select_passages: bool = Field(
        default=True, description="long documents: opening + keyword passages (False: a cut)"
    )
    use_adapters: bool = Field(
        default=True, description="use each type's LoRA adapter (False: base model, zero-shot)"
    )
    confidence_threshold: float = Field(
        default=0.5, description="a value the model wrote with less confidence → needs_review"
    )

    max_upload_bytes: int = 50 * 1024 * 1024
    max_files_per_batch: int = 1000
    max_pages: int = 200
    max_image_pixels: int = 60_000_000
    ocr_dpi: int = 200

    docling_artifacts_path: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("DOCLING_ARTIFACTS_PATH", "DOCKET_DOCLING_ARTIFACTS_PATH"),
        description="docling's layout models; when set, PDFs go through docling's full pipeline",
    )

    task_max_retries: int = 5
    sweep_interval_s: int = Field(
        default=30, description="how often a worker queues again what an outage lost")
    lost_after_s: int = Field(
        default=60, description="a document queued this long with an empty broker queue was "
        "lost (a Redis restart) and is queued again")
    max_attempts: int = Field(
        default=8, description="a document started this many times without finishing fails "
        "(its worker keeps dying on it); above task_max_retries so retries never reach it")
    worker_max_memory_mb: int = Field(
        default=3072, description="a worker process over this RSS is replaced after its task")
    task_soft_time_limit_s: int = 600
    task_time_limit_s: int = 660

    @field_validator("retrain_window")
    @classmethod
    def _window(cls, value: str) -> str:
        """'HH:MM-HH:MM' of two different times of day, or empty (any time)."""
        if value:
            try:
                start, end = (dt.time.fromisoformat(part) for part in value.split("-"))
            except ValueError:
                raise ValueError(f"'{value}' is not HH:MM-HH:MM (e.g. 01:00-05:00); leave it "
                                 "empty for any time") from None
            if start == end:
                raise ValueError("the window starts and ends at the same time; leave it empty "
                                 "for any time")
        return value

    @field_validator("retrain_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is no time zone (e.g. UTC, Europe/Berlin)") from None
        return value

    @field_validator("webhook_allowed_hosts", "webhook_retry_schedule_s", "retrain_adapters",
                     mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """`a.example,b.example` in the environment: a list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
