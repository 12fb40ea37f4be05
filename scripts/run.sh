#!/usr/bin/env bash
# `make run`: build, install, start the local cluster, make sure a demo account exists,
# print its test key and a first curl, then serve the API in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."

make -s -j2 >/dev/null
if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 >/dev/null

# A library installed while the cluster was running is only picked up by a restart.
scripts/cluster.sh status >/dev/null 2>&1 && scripts/cluster.sh stop
scripts/cluster.sh start
RUN_DIR=$(cd "${SK_RUN_DIR:-.run}" && pwd)
PORT=${SK_HTTP_PORT:-8080}

# Keys are shown once and stored hashed, so the demo keys are kept in .run/ for you.
DEMO="$RUN_DIR/demo-account.json"
if [ ! -s "$DEMO" ] || ! grep -q "$(scripts/cluster.sh psql -tAc "SELECT string_agg(id, '|') FROM sk.accounts" 2>/dev/null || echo none)" "$DEMO" 2>/dev/null; then
  scripts/cluster.sh psql -tAc "SELECT sk.create_account('Demo shop', 'USD')" >"$DEMO"
fi
KEY=$(sed -E 's/.*"test_secret_key": "([^"]+)".*/\1/' "$DEMO")

cat <<MSG

  SK Inventory is running on http://127.0.0.1:$PORT  (PostgreSQL: make psql, stop: make stop)

  Your test secret key:  $KEY

  Create an item (run it twice: the second answer is replayed, byte for byte):

    curl -s -X POST http://127.0.0.1:$PORT/inventory/v1/items \\
      -H "Authorization: Bearer $KEY" \\
      -H "Idempotency-Key: first-item" \\
      -H "Content-Type: application/json" \\
      -d '{"sku":"TSHIRT-M","name":"T-shirt, medium","reorder_point":5}'

  API reference: http://127.0.0.1:$PORT/docs   (OpenAPI: /inventory/v1/openapi.json)
  MCP for agents: http://127.0.0.1:$PORT/mcp   (stdio: SK_API_KEY=… ./build/sk-mcp)
  Webhooks to localhost: SK_API_KEY=$KEY ./build/sk-listen --forward-to http://localhost:4242/hook

MSG
export SK_DATABASE_URL="host=$RUN_DIR port=${SK_PGPORT:-54329} dbname=sk user=sk_shim"
export SK_HTTP_PORT=$PORT
exec ./build/sk-shim
