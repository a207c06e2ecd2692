#!/usr/bin/env bash
# bench/subscriptions.sh [--quick]: what subscriptions cost, our server in one
# run, figures, never assertions (docs/performance.md):
#   - appends/s (32 connections x 32 streams, 100-byte bodies, full sync)
#     with 100 webhook subscriptions whose pattern matches every stream
#     appended to, against the same server with none: once with receivers
#     that hold each wake (the cost of the bookkeeping), once with receivers
#     that ack each wake at once (a webhook per subscription as fast as they
#     go round, on the same cores); TURNS rounds with the servers in turn,
#     each one's best round counts, reported as ratios;
#   - append -> webhook received, p50/p99, with 1 subscription on the
#     stream's pattern and with 1,000 (to the first wake and to the last).
# The latency receivers answer {"done":true}, so every append wakes again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ $quick = 1 ]; then TURNS=1; SECS=1; COUNT=20; COUNT_BIG=5; else TURNS=3; SECS=5; COUNT=300; COUNT_BIG=50; fi
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target durable-streams-server load subs_bench >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

start() {  # name -> sets pid, addr
  "$build/durable-streams-server" --port 0 --data-dir "$work/$1" >"$work/$1.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -qs '^listening on ' "$work/$1.out" && break; sleep 0.1; done
  addr=$(sed -n 's|^listening on http://||p' "$work/$1.out")
}
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# The write path: three servers side by side: none, 100 subscriptions on
# "*" (the load generator's streams have one segment) whose receiver holds
# each wake (answers {}: the bookkeeping of linked streams alone), and 100
# whose receiver acks each at once ({"done":true}: a webhook per
# subscription as fast as they go round, on the same two cores).
start none; none_pid=$pid; declare -A ADDR; ADDR[none]=$addr
start held; held_pid=$pid; ADDR[held]=$addr
start cycling; cycling_pid=$pid; ADDR[cycling]=$addr
mkfifo "$work/hold"
"$build/bench/subs_bench" serve "${ADDR[held]}" 100 '*' hold <"$work/hold" >"$work/held.out" &
held_serve=$!
"$build/bench/subs_bench" serve "${ADDR[cycling]}" 100 '*' <"$work/hold" >"$work/cycling.out" &
cycling_serve=$!
exec 3>"$work/hold"
for _ in $(seq 1 100); do
  grep -qs '^ready' "$work/held.out" && grep -qs '^ready' "$work/cycling.out" && break; sleep 0.1
done
declare -A BEST=([none]=0 [held]=0 [cycling]=0)
for _ in $(seq 1 $TURNS); do
  for s in none held cycling; do
    line=$("$build/bench/load" append "http://${ADDR[$s]}/v1/stream" 32 32 100 $SECS | grep '^result' || true)
    echo "  $s: $line" >&2
    v=$(get "$line" rate); v=${v%.*}
    [ "${v:-0}" -gt "${BEST[$s]}" ] && BEST[$s]=$v
    sleep 0.5
  done
done
exec 3>&-
wait $held_serve $cycling_serve || true
held_wakes=$(get "$(grep '^result' "$work/held.out")" wakes)
cycling_wakes=$(get "$(grep '^result' "$work/cycling.out")" wakes)
kill $none_pid $held_pid $cycling_pid; wait $none_pid $held_pid $cycling_pid 2>/dev/null || true
cost() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3fx, cost %.1f%%", a / b, 100 * (1 - a / b); else print "-" }'; }

# Wake latency, on a fresh server each.
start lat1; "$build/bench/subs_bench" latency "$addr" 1 $COUNT | grep '^result' >"$work/lat1.txt" || true
kill $pid; wait $pid 2>/dev/null || true
start lat1000; "$build/bench/subs_bench" latency "$addr" 1000 $COUNT_BIG | grep '^result' >"$work/lat1000.txt" || true
kill $pid; wait $pid 2>/dev/null || true
l1=$(cat "$work/lat1.txt"); l1000=$(cat "$work/lat1000.txt")

echo "subscriptions: $( [ $quick = 1 ] && echo quick || echo full ) run, $(nproc) cores, load generator and receivers on the same machine"
echo "| workload | figure |"
echo "|---|---|"
echo "| append 32 conns x 32 streams /s, no subscriptions | ${BEST[none]} |"
echo "| the same, 100 subscriptions on every stream, wakes held out | ${BEST[held]} ($(cost "${BEST[held]}" "${BEST[none]}"); $held_wakes webhooks) |"
echo "| the same, 100 subscriptions acking every wake at once | ${BEST[cycling]} ($(cost "${BEST[cycling]}" "${BEST[none]}"); $cycling_wakes webhooks in $TURNS x $SECS s) |"
echo "| append -> webhook, 1 subscription, p50 / p99 ms | $(get "$l1" first_p50) / $(get "$l1" first_p99) ($(get "$l1" appends) appends) |"
echo "| append -> first webhook, 1,000 subscriptions, p50 / p99 ms | $(get "$l1000" first_p50) / $(get "$l1000" first_p99) ($(get "$l1000" appends) appends) |"
echo "| append -> all 1,000 webhooks, p50 / p99 ms | $(get "$l1000" all_p50) / $(get "$l1000" all_p99) |"
