#!/usr/bin/env bash
# Instructions per API call inside PostgreSQL, counted by callgrind: deterministic to
# about 0.5%, where wall-clock and CPU time on a shared 2-core machine vary by 10-25%
# from one run to the next. For comparing two versions of the extension's request path,
# not a substitute for `make bench` (no network, no shim, no concurrency).
#
# Runs on a throwaway cluster: an account with 1000 items, then each statement N_LOW and
# N_HIGH times in single-user mode under valgrind; the difference divided by
# N_HIGH - N_LOW cancels start-up and first-use costs (plans, route table, caches).
# Needs valgrind (apt-get install valgrind). Environment: SK_INSTR_LOW (20),
# SK_INSTR_HIGH (120), SK_INSTR_PGPORT (54369).
set -euo pipefail
cd "$(dirname "$0")/.."

LOW=${SK_INSTR_LOW:-20}
HIGH=${SK_INSTR_HIGH:-120}
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }

make -s -j2 >/dev/null
if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi

export SK_RUN_DIR=$(mktemp -d /tmp/sk-instr.XXXXXX)
export SK_PGPORT=${SK_INSTR_PGPORT:-54369}
cleanup() { scripts/cluster.sh stop immediate; rm -rf "$SK_RUN_DIR"; }
trap cleanup EXIT
scripts/cluster.sh start
PGBIN=$(pg_config --bindir)
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SK_RUN_DIR" -p "$SK_PGPORT" -U postgres -d sk)

ACCOUNT=$("${PSQL[@]}" -tAc "SELECT sk.create_account('Instructions', 'USD')")
KEY=$(sed -E 's/.*"test_secret_key": "([^"]+)".*/\1/' <<<"$ACCOUNT")
ITEM=$("${PSQL[@]}" -tA -v key="$KEY" <<'SQL' | head -1
SELECT (r.body::json)->>'id'
  FROM generate_series(1, 1000) g,
       LATERAL sk.invoke('POST', '/inventory/v1/items', NULL, 'Bearer ' || :'key', 'item-' || g, 'r',
                         json_build_object('sku', 'I-' || g, 'name', 'Item ' || g)::text) r
 ORDER BY g;
SQL
)
"${PSQL[@]}" -c "VACUUM ANALYZE"
scripts/cluster.sh stop

invoke() {  # method path body-or-NULL -> one SQL line calling sk.invoke with a fresh Idempotency-Key
  printf "SELECT status FROM sk.invoke('%s', '/inventory/v1%s', NULL, 'Bearer %s', gen_random_uuid()::text, 'r', %s)" \
    "$1" "$2" "$KEY" "$3"
}
# One statement per line: single-user mode reads a line as a statement.
count() {  # label statement -> instructions per execution
  local n total=() out slug
  slug=$(tr -c 'a-z0-9' '_' <<<"$1")
  for n in "$LOW" "$HIGH"; do
    local input="$SK_RUN_DIR/$slug.$n.sql" log="$SK_RUN_DIR/$slug.$n.log"
    for _ in $(seq 1 "$n"); do printf '%s\n' "$2"; done >"$input"
    chmod 644 "$input"
    as_pg=(); [ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
    "${as_pg[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      "$PGBIN/postgres" --single -D "$SK_RUN_DIR/data" -c synchronous_commit=off sk <"$input" >"$log" 2>&1
    if [ "$(grep -c 'status = "200"' "$log")" -ne "$n" ]; then
      echo "$1: not every call answered 200:" >&2; grep -v "^==" "$log" | head -20 >&2; exit 1
    fi
    total+=("$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log")")
  done
  out=$(( (total[1] - total[0]) / (HIGH - LOW) ))
  printf '  %-32s %12s instructions per call\n' "$1" "$out"
}

BATCH=$(printf '{"item_id":"%s","qty":-1,"type":"sale"},' $(yes "$ITEM" | head -100))
BATCH=${BATCH%,}
echo
echo "SK Inventory: instructions per call inside PostgreSQL (callgrind, single-user mode)"
count "POST /movements (1 sale)" "$(invoke POST /movements "'{\"item_id\":\"$ITEM\",\"qty\":-1,\"type\":\"sale\",\"reason\":\"order_fulfilled\"}'")"
count "GET /items/{id}/stock" "$(invoke GET "/items/$ITEM/stock" NULL)"
count "POST /movements/batch (100)" "$(invoke POST /movements/batch "'{\"movements\":[$BATCH]}'")"
