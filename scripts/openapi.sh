#!/usr/bin/env bash
# `make openapi`: regenerates docs/openapi.json from the validators (via sk.openapi() on
# the local cluster). The HTTP suite fails when the served document and this copy differ.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -j2 >/dev/null
if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi
scripts/cluster.sh status >/dev/null 2>&1 && scripts/cluster.sh stop
scripts/cluster.sh start
scripts/cluster.sh psql -q -c "ALTER EXTENSION sk_inventory UPDATE" >/dev/null 2>&1 || true
mkdir -p docs
scripts/cluster.sh psql -tA -c "SELECT sk.openapi()" >docs/openapi.json.tmp
# psql adds one newline of its own after the document's trailing newline.
sed -i -e '${/^$/d}' docs/openapi.json.tmp
mv docs/openapi.json.tmp docs/openapi.json
echo "docs/openapi.json: $(wc -c <docs/openapi.json) bytes"
