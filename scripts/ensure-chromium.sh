#!/usr/bin/env bash
# The back office's browser tests drive Debian's Chromium (/usr/bin/chromium) with
# Playwright; no browser is ever downloaded. This installs Debian's package when we can;
# without it the browser tests are skipped, saying why.
set -euo pipefail
if [[ -x /usr/bin/chromium ]] || [[ -n "${CARTWHEEL_CHROMIUM:-}" ]]; then exit 0; fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "installing Chromium from Debian's packages (the back office's browser tests)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "note: /usr/bin/chromium is missing, so the browser tests will be skipped" >&2
echo "(install Debian's 'chromium' package, or set CARTWHEEL_CHROMIUM to a Chromium binary)" >&2
