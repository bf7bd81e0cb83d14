#!/usr/bin/env bash
# README command 2 (and CI): install, then run the whole test suite on real services and model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# docker-compose (Debian) validates docker-compose.yml without a Docker engine.
if ! command -v docker-compose >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) \
    >/dev/null 2>&1 || echo "docker-compose not installable; its test will be skipped" >&2
fi
# Debian chromium drives the review page's browser test (playwright, never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
    >/dev/null 2>&1 || echo "chromium not installable; the review page test will be skipped" >&2
fi
.venv/bin/ruff check pipeline workers schemas tests bench samples
.venv/bin/mypy
exec .venv/bin/python -m pytest -ra "$@"
