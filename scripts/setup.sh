#!/usr/bin/env bash
# Create .venv and install policy-toolkit with its test extras. Idempotent.
# Works on a fresh Debian machine with Python 3.11 (installs python3-venv when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "policy-toolkit needs Python 3.11 or newer as '$PY' (set PYTHON=...)" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PY" -m venv .venv
    else
      echo "cannot create a virtualenv: install python3-venv (sudo apt-get install python3-venv)" >&2
      exit 2
    fi
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# The toolkit is installed editable, so pip compiles none of it; where PYTHONDONTWRITEBYTECODE is
# set, every `policy-toolkit` process (and each of the tests' CLI runs) compiled all its modules
# again, about 0.35 s of CPU. Python still reads these files (and ignores a stale one).
.venv/bin/python -m compileall -q toolkit
