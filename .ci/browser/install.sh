#!/usr/bin/env bash
# Install the browser the site tests drive (tests/site/test_site.py): Debian's headless
# Chromium and CJK fonts, so that Chinese pages render in it. Idempotent: when
# /usr/bin/chromium and the Noto CJK fonts are there, it returns at once without root.
# Playwright (a test extra from PyPI) drives this executable; it downloads no browser.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "the site tests need Debian's chromium and fonts-noto-cjk: apt-get install chromium fonts-noto-cjk (as root)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk fontconfig >/dev/null
chromium --version
