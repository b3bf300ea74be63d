#!/usr/bin/env bash
# Quick start, main job: set up, then build the release from datasets/sources into datasets/release.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/policy-toolkit build "$@"
