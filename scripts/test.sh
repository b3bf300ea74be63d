#!/usr/bin/env bash
# Quick start, tests: set up, start the services the integration tests need, run everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/policy-toolkit schema
.venv/bin/python -m pytest "$@"
