#!/usr/bin/env bash
# README command 1: install everything, then extract the bundled samples and print the table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/docket run samples/documents
