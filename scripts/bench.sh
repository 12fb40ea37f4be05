#!/usr/bin/env bash
# `make bench` (DESIGN.md section 12): on a throwaway cluster with normal durability,
# pgbench TPC-B-like and select-only as the baseline, then the API through the real
# shim under wrk with unique Idempotency-Keys: single-movement POST, GET /items/{id}/stock
# and batch POST, each run (baselines too) from a settled cluster: vacuumed, checkpointed.
# Prints every figure, its ratio to its baseline or goal, p50/p99 latency and the shim's
# peak memory. Nothing is asserted: timings are not tests.
#
# The two ratios with a goal are taken over SK_BENCH_ROUNDS rounds (2): each round runs both
# baselines, then the single-movement POST and the stock GET, so every API figure and its
# baseline are measured in alternation over the same minutes. On this kind of machine the
# disk's flush latency alone moves a 15 s run by 20-40% from one minute to the next (p99 of a
# movement POST 7 ms in one run, 500 ms in the next), and a single baseline run taken
# earlier compared the API with another minute's disk. Each figure is the mean of its
# rounds, p99 the worst round; every round's figures are printed too.
#
# Environment: SK_BENCH_CLIENTS (16), SK_BENCH_THREADS (2), SK_BENCH_SECONDS (15),
# SK_BENCH_ROUNDS (2), SK_BENCH_SCALE (10), SK_BENCH_ITEMS (1000), SK_BENCH_BATCH_CLIENTS (4),
# SK_BENCH_PGPORT (54359), SK_BENCH_HTTP_PORT (18480).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CLIENTS=${SK_BENCH_CLIENTS:-16}
THREADS=${SK_BENCH_THREADS:-2}
SECONDS_EACH=${SK_BENCH_SECONDS:-15}
ROUNDS=${SK_BENCH_ROUNDS:-2}
SCALE=${SK_BENCH_SCALE:-10}
ITEMS=${SK_BENCH_ITEMS:-1000}
BATCH_CLIENTS=${SK_BENCH_BATCH_CLIENTS:-4}
HTTP_PORT=${SK_BENCH_HTTP_PORT:-18480}

step() { printf '\n== %s\n' "$*" >&2; }

step "build and install the extension and the shim"
make -s -j2 >/dev/null
if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target sk-shim >/dev/null

# A throwaway cluster with the durability of production (no SK_PG_FAST): every commit
# is flushed, for pgbench and for the API alike.
export SK_RUN_DIR=$(mktemp -d /tmp/sk-bench.XXXXXX)
export SK_PGPORT=${SK_BENCH_PGPORT:-54359}
unset SK_PG_FAST
SHIM_PID=
cleanup() {
  [ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  scripts/cluster.sh stop immediate
  rm -rf "$SK_RUN_DIR"
}
trap cleanup EXIT

step "throwaway cluster on port $SK_PGPORT (normal durability)"
scripts/cluster.sh start
PGBIN=$(pg_config --bindir)
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SK_RUN_DIR" -p "$SK_PGPORT" -U postgres)
PGBENCH=("$PGBIN/pgbench" -h "$SK_RUN_DIR" -p "$SK_PGPORT" -U postgres)

# ---- baseline ----------------------------------------------------------------------
step "pgbench: initialise scale $SCALE"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE pgbench"
"${PGBENCH[@]}" -i -q -s "$SCALE" pgbench >/dev/null 2>&1

# Before every measured run, the baselines' and the API's alike: both databases vacuumed and
# analyzed, and a checkpoint, so that no run pays for the autovacuum or the dirty pages the
# run before it left (autovacuum of pgbench_accounts, due a minute after TPC-B-like, landed
# in the GET run). pgbench vacuums its own tables before a run unless told not to (-n).
settle() {
  "${PSQL[@]}" -d pgbench -c "VACUUM ANALYZE"
  "${PSQL[@]}" -d sk -c "VACUUM ANALYZE"
  "${PSQL[@]}" -d postgres -c "CHECKPOINT"
}

pgbench_tps() {  # args: extra pgbench options; prints "tps avg_latency_ms"
  local out
  settle
  out=$("${PGBENCH[@]}" -n -c "$CLIENTS" -j "$THREADS" -T "$SECONDS_EACH" "$@" pgbench 2>/dev/null)
  printf '%s %s\n' "$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")" "$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")"
}
TPCB_ROUNDS=() SELECT_ROUNDS=() POST_ROUNDS=() GET_ROUNDS=()  # "tps avg_ms" / SKBENCH lines
baselines() {  # arg: round
  step "round $1: pgbench TPC-B-like: $CLIENTS clients, $THREADS threads, ${SECONDS_EACH}s"
  TPCB_ROUNDS+=("$(pgbench_tps)")
  step "round $1: pgbench select-only (-S): $CLIENTS clients, $THREADS threads, ${SECONDS_EACH}s"
  SELECT_ROUNDS+=("$(pgbench_tps -S)")
}
baselines 1

# ---- the API -----------------------------------------------------------------------
step "an account and $ITEMS items with opening stock"
ACCOUNT=$("${PSQL[@]}" -d sk -tAc "SELECT sk.create_account('Bench shop', 'USD')")
KEY=$(sed -E 's/.*"test_secret_key": "([^"]+)".*/\1/' <<<"$ACCOUNT")
ITEMS_FILE="$SK_RUN_DIR/items.txt"
# Items and their opening balances through the API itself (sk.invoke, as the shim calls it).
"${PSQL[@]}" -d sk -tA -v key="$KEY" -v n="$ITEMS" >"$ITEMS_FILE" <<'SQL'
SELECT (r.body::json)->>'id'
  FROM generate_series(1, :n) g,
       LATERAL sk.invoke('POST', '/inventory/v1/items', NULL, 'Bearer ' || :'key', 'bench-item-' || g, 'bench',
                         json_build_object('sku', 'BENCH-' || g, 'name', 'Bench item ' || g, 'reorder_point', 10)::text) r
 ORDER BY g;
SQL
"${PSQL[@]}" -d sk -tA -v key="$KEY" >/dev/null <<'SQL'
SELECT count(*) FILTER (WHERE r.status <> 200)
  FROM (SELECT (n - 1) / 1000 AS chunk, json_agg(json_build_object('item_id', id, 'qty', 1000000, 'type', 'receipt',
               'reason', 'opening_balance', 'unit_cost', '4.50')) AS movements
          FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM sk.items WHERE sku LIKE 'BENCH-%') i GROUP BY 1) b,
       LATERAL sk.invoke('POST', '/inventory/v1/movements/batch', NULL, 'Bearer ' || :'key', 'bench-opening-' || b.chunk, 'bench',
                         json_build_object('movements', b.movements)::text) r;
SQL

step "the shim on :$HTTP_PORT (pool $CLIENTS, no rate limit)"
SK_DATABASE_URL="host=$SK_RUN_DIR port=$SK_PGPORT dbname=sk user=sk_shim" SK_HTTP_PORT=$HTTP_PORT \
  SK_POOL_SIZE=$CLIENTS SK_RATE_LIMIT=0 ./build/sk-shim >"$SK_RUN_DIR/shim.log" 2>&1 &
SHIM_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null && break; sleep 0.1; done
BASE="http://127.0.0.1:$HTTP_PORT"

export SK_BENCH_KEY=$KEY SK_BENCH_ITEMS_FILE=$ITEMS_FILE SK_BENCH_RUN="run$(date +%s)"
run_wrk() {  # args: script connections; prints the SKBENCH line's fields
  local out
  settle
  out=$(wrk -t "$THREADS" -c "$2" -d "${SECONDS_EACH}s" --timeout 30s --latency -s "bench/$1" "$BASE" 2>&1)
  printf '%s\n' "$out" >>"$SK_RUN_DIR/wrk.log"
  grep '^SKBENCH' <<<"$out" | tail -1
}
field() { sed -n "s/.*$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"; }

step "wrk: POST /items, $CLIENTS connections"
ITEM_POST=$(run_wrk post_item.lua "$CLIENTS")
for round in $(seq 1 "$ROUNDS"); do
  [ "$round" -gt 1 ] && baselines "$round"
  export SK_BENCH_RUN="run$(date +%s)-round$round"  # Idempotency-Keys unique across rounds
  step "round $round: wrk: single-movement POST, $CLIENTS connections"
  POST_ROUNDS+=("$(run_wrk post_movement.lua "$CLIENTS")")
  step "round $round: wrk: GET /items/{id}/stock, $CLIENTS connections"
  GET_ROUNDS+=("$(run_wrk get_stock.lua "$CLIENTS")")
done
step "wrk: batch POST (1000 movements each), $BATCH_CLIENTS connections"
BATCH=$(run_wrk post_batch.lua "$BATCH_CLIENTS")
step "webhooks: $((10 * 1000)) deliveries to a local receiver, then 200 movement-to-delivery latencies"
settle
WEBHOOK=$(node bench/webhooks.mjs "$BASE" "$KEY" "$ITEMS_FILE" | grep '^SKWEBHOOK' | tail -1)
RSS_KB=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SHIM_PID/status")
VERIFY=$("${PSQL[@]}" -d sk -tAc "SELECT count(*) FROM sk.verify_balances()")
MOVEMENTS=$("${PSQL[@]}" -d sk -tAc "SELECT count(*) FROM sk.movements")

# ---- report ------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
# Over the rounds: the mean of a column of "tps avg_ms" lines, and SKBENCH lines summed into
# one (rps and p50 the mean, p99 the worst, counts summed).
mean_column() { printf '%s\n' "${@:3}" | awk -v c="$1" -v f="$2" '{ s += $c; n++ } END { printf f, s / n }'; }
over_rounds() {
  printf '%s\n' "$@" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2]; if (kv[1] == "p99_us" && kv[2] > w) w = kv[2] } n++ }
    END { printf "SKBENCH rps=%.1f p50_us=%d p99_us=%d non2xx=%d\n", v["rps"] / n, v["p50_us"] / n, w, v["non2xx"] }'
}
per_round() { local sep=""; for x in "$@"; do printf '%s%.0f' "$sep" "$x"; sep=" / "; done; }
TPCB_TPS=$(mean_column 1 %.1f "${TPCB_ROUNDS[@]}") TPCB_LAT=$(mean_column 2 %.3f "${TPCB_ROUNDS[@]}")
SELECT_TPS=$(mean_column 1 %.1f "${SELECT_ROUNDS[@]}") SELECT_LAT=$(mean_column 2 %.3f "${SELECT_ROUNDS[@]}")
POST=$(over_rounds "${POST_ROUNDS[@]}") GET=$(over_rounds "${GET_ROUNDS[@]}")
ROUND_LINE() {  # label, then the rounds' figures
  printf '  %-34s %s\n' "$1" "$(per_round "${@:2}")"
}
BATCH_RPS=$(field rps "$BATCH")
BATCH_MPS=$(awk -v r="$BATCH_RPS" 'BEGIN { printf "%.0f", r * 1000 }')

cat <<REPORT

SK Inventory benchmark — $(nproc) CPUs, $CLIENTS clients / $THREADS threads, ${SECONDS_EACH}s per run, pgbench scale $SCALE,
$ITEMS items, normal durability (fsync on, synchronous_commit on); baselines, POST and GET: the mean of $ROUNDS rounds.

  baseline                                   tps        avg ms
  pgbench TPC-B-like                  $(printf '%12.1f %12s' "$TPCB_TPS" "$TPCB_LAT")
  pgbench select-only (-S)            $(printf '%12.1f %12s' "$SELECT_TPS" "$SELECT_LAT")

  API (wrk, through the shim)              req/s    ratio     goal      p50 ms    p99 ms  non-2xx
  POST /items                         $(printf '%12.1f %8s %8s %11s %9s %8s' "$(field rps "$ITEM_POST")" "$(ratio "$(field rps "$ITEM_POST")" "$TPCB_TPS")" "" "$(ms "$(field p50_us "$ITEM_POST")")" "$(ms "$(field p99_us "$ITEM_POST")")" "$(field non2xx "$ITEM_POST")")   vs TPC-B-like
  POST /movements (1 movement)        $(printf '%12.1f %8s %8s %11s %9s %8s' "$(field rps "$POST")" "$(ratio "$(field rps "$POST")" "$TPCB_TPS")" ">=1.0" "$(ms "$(field p50_us "$POST")")" "$(ms "$(field p99_us "$POST")")" "$(field non2xx "$POST")")   vs TPC-B-like
  GET /items/{id}/stock               $(printf '%12.1f %8s %8s %11s %9s %8s' "$(field rps "$GET")" "$(ratio "$(field rps "$GET")" "$SELECT_TPS")" ">=0.5" "$(ms "$(field p50_us "$GET")")" "$(ms "$(field p99_us "$GET")")" "$(field non2xx "$GET")")   vs select-only
  POST /movements/batch (×1000)       $(printf '%12.1f %8s %8s %11s %9s %8s' "$BATCH_RPS" "" "" "$(ms "$(field p50_us "$BATCH")")" "$(ms "$(field p99_us "$BATCH")")" "$(field non2xx "$BATCH")")   $BATCH_CLIENTS connections
    = movements/s                     $(printf '%12s %8s %8s' "$BATCH_MPS" "$(ratio "$BATCH_MPS" 50000)" ">=1.0")   vs the 50,000/s goal

  per round ($ROUNDS, in this order: TPC-B-like, select-only, POST, GET)
$(ROUND_LINE "pgbench TPC-B-like" $(for r in "${TPCB_ROUNDS[@]}"; do echo "${r%% *}"; done))
$(ROUND_LINE "POST /movements" $(for r in "${POST_ROUNDS[@]}"; do field rps "$r"; done))
$(ROUND_LINE "pgbench select-only" $(for r in "${SELECT_ROUNDS[@]}"; do echo "${r%% *}"; done))
$(ROUND_LINE "GET /items/{id}/stock" $(for r in "${GET_ROUNDS[@]}"; do field rps "$r"; done))

  webhooks (worker → local receiver)       per s    ratio     goal      p50 ms    p99 ms
  deliveries                          $(printf '%12s %8s %8s' "$(field deliveries_per_s "$WEBHOOK")" "$(ratio "$(field deliveries_per_s "$WEBHOOK")" 2000)" ">=1.0")   vs the 2,000/s goal
  movement → delivery latency         $(printf '%12s %8s %8s %11s %9s' "" "" "<50ms" "$(field p50_ms "$WEBHOOK")" "$(field p99_ms "$WEBHOOK")")

  shim peak RSS (VmHWM)               $(awk -v kb="$RSS_KB" 'BEGIN { printf "%9.1f MiB", kb / 1024 }')   ratio $(ratio "$RSS_KB" 65536) of the 64 MiB goal
  movements recorded $MOVEMENTS; verify_balances() differences after the runs: $VERIFY
REPORT
