#!/usr/bin/env bash
# The tracking spec's tests drive the real @segment/analytics-node library, which needs Node
# and npm (Debian's packages, installed when we can) and the library itself, installed from
# the lock file in tests/wire/segment/node (npm ci) when it is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing Node and npm from Debian's packages (needed by the test suite)…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "Node is needed by the test suite: install Debian's 'nodejs' and 'npm' packages" >&2
    exit 1
  fi
fi
NODE_DIR=tests/wire/segment/node
if [[ ! -d $NODE_DIR/node_modules/@segment/analytics-node ]] ||
  [[ $NODE_DIR/package-lock.json -nt $NODE_DIR/node_modules/.package-lock.json ]]; then
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
