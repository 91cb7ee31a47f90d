#!/usr/bin/env bash
# The suite runs every database test on PostgreSQL too. It uses the server named by
# CARTWHEEL_TEST_POSTGRES_URL, or starts a throwaway one with the local initdb. This makes
# sure one of the two is possible, installing Debian's postgresql package when we can.
set -euo pipefail
if [[ -n "${CARTWHEEL_TEST_POSTGRES_URL:-}" ]]; then exit 0; fi
if command -v initdb >/dev/null || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "installing PostgreSQL from Debian's packages (needed by the test suite)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  exit 0
fi
echo "PostgreSQL is needed by the test suite: install Debian's 'postgresql' package" >&2
echo "or set CARTWHEEL_TEST_POSTGRES_URL=postgresql://user@127.0.0.1:5432/postgres" >&2
exit 1
