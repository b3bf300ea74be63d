#!/usr/bin/env bash
# Quick start, tests: set up, start the services the integration tests need, run everything.
# The CKAN portal (for `publish ckan` tests) is set up and started by .ci/ckan/start.sh:
# PostgreSQL and Redis from Debian, CKAN 2.12 + ckanext-dcat from PyPI in their own venv
# under /opt/policy-toolkit-ckan (root and about 90 s the first time; when it is already
# up, start.sh returns at once without root). They stay up: `bash .ci/ckan/stop.sh` stops
# CKAN. The tests that use the portal take turns on it (run/portal.lock), so two clones may
# run this script at once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash .ci/ckan/start.sh
# Debian's headless Chromium and CJK fonts for the site's browser tests (returns at once when present)
bash .ci/browser/install.sh
# shellcheck disable=SC1091
. /opt/policy-toolkit-ckan/env
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/policy-toolkit schema
# -v: each test's name shows while it runs (a few take 25-40 s); --durations: the slowest at the end.
.venv/bin/python -m pytest -v --durations=10 "$@"
