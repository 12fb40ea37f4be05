#!/usr/bin/env bash
# `make test`: the whole suite on a throwaway cluster. Builds and installs the
# extension, builds the shim and unit tests, then runs GoogleTest, pgTAP (pg_prove)
# and the HTTP tests against the real shim over real HTTP.
# SK_HTTP_TESTS narrows the HTTP tests to some files (test/http/ledger.test.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

step() { printf '\n== %s\n' "$*"; }

# Test-only packages (headless Chromium); `make test` has installed the rest already.
scripts/install-deps.sh --test

step "build and install the extension"
make -s -j2 >/dev/null
if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi

step "build the shim and unit tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 >/dev/null

step "unit tests (GoogleTest)"
./build/sk-unit-tests --gtest_brief=1

export SK_RUN_DIR=$(mktemp -d /tmp/sk-test.XXXXXX)
export SK_PGPORT=${SK_TEST_PGPORT:-54339}
export SK_PG_FAST=1
HTTP_PORT=${SK_TEST_HTTP_PORT:-18080}
LIMITED_PORT=$((HTTP_PORT + 1))
PIDS=()
cleanup() {
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/cluster.sh stop immediate
  rm -rf "$SK_RUN_DIR"
}
trap cleanup EXIT

step "throwaway cluster on port $SK_PGPORT"
scripts/cluster.sh start
PSQL=("$(pg_config --bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$SK_RUN_DIR" -p "$SK_PGPORT" -U postgres -d sk)
"${PSQL[@]}" -c "CREATE EXTENSION IF NOT EXISTS pgtap"
# Webhook retries on a test-sized schedule: the same code path, seconds instead of hours.
"${PSQL[@]}" -c "ALTER SYSTEM SET sk.webhook_retry_schedule = '300ms,300ms,300ms'" \
  -c "ALTER SYSTEM SET sk.scheduler_interval = '500ms'" -c "SELECT pg_reload_conf()" >/dev/null

step "pgTAP"
(cd test/sql && pg_prove -h "$SK_RUN_DIR" -p "$SK_PGPORT" -U postgres -d sk --failures ./*.sql)

step "HTTP tests through the real shim"
# standardwebhooks verifies signatures; the official MCP Inspector CLI drives /mcp.
[ -d test/http/node_modules/standardwebhooks ] && [ -d test/http/node_modules/@modelcontextprotocol/inspector ] ||
  (cd test/http && npm ci --no-audit --no-fund >/dev/null)
export SK_DATABASE_URL="host=$SK_RUN_DIR port=$SK_PGPORT dbname=sk user=sk_shim"
SK_HTTP_PORT=$HTTP_PORT ./build/sk-shim >"$SK_RUN_DIR/shim.log" 2>&1 &
PIDS+=($!)
SK_HTTP_PORT=$LIMITED_PORT SK_RATE_LIMIT=5 ./build/sk-shim >"$SK_RUN_DIR/shim-limited.log" 2>&1 &
PIDS+=($!)
for port in $HTTP_PORT $LIMITED_PORT; do
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done
export SK_BASE_URL="http://127.0.0.1:$HTTP_PORT"
export SK_LIMITED_URL="http://127.0.0.1:$LIMITED_PORT"
export SK_PSQL="${PSQL[*]}"
export SK_ROOT="$ROOT"
node --test --test-concurrency=1 ${SK_HTTP_TESTS:-test/http/}
echo
echo "make test: all suites passed"
