#!/usr/bin/env bash
# bench/estuary.sh [--quick]: what estuaries (pub/sub fan-out into session
# streams, docs/estuaries.md) deliver, our server in one run; figures, never
# assertions (docs/performance.md). The Node peer has no estuaries, so the
# floor is our own append figure of the same run:
#   - append 32 conns x 32 streams /s (100-byte bodies, full sync): the floor;
#   - fan-out: appends/s from 8 connections to one source with 1,000 session
#     streams subscribed, and the copies/s that makes, against the floor;
#   - 1 publisher at 20 msgs/s, 1,000 session streams each with an SSE
#     reader: publish -> every reader has it, p50/p99, and how many readers
#     got every message exactly once and in order;
#   - the same with 10,000 session streams at 2 msgs/s.
# TURNS rounds of the throughput pair, each one's best round counts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ $quick = 1 ]; then
  TURNS=1; SECS=1; SUBS=100; SMALL=100; BIG=300; LIVE_SECS=2
else
  TURNS=3; SECS=5; SUBS=1000; SMALL=1000; BIG=10000; LIVE_SECS=10
fi
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target durable-streams-server load >/dev/null
load="$build/bench/load"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

start() {  # name -> sets pid, url
  "$build/durable-streams-server" --port 0 --data-dir "$work/$1" >"$work/$1.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -qs '^listening on ' "$work/$1.out" && break; sleep 0.1; done
  url="$(sed -n 's/^listening on //p' "$work/$1.out")/v1/stream"
}
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
run() { local line; line=$("$load" "$@" | grep '^result' || true); echo "  $line" >&2; echo "$line"; }

start throughput
best_append=0; best_fanout=""; best_rate=0
for _ in $(seq 1 $TURNS); do
  a=$(run append "$url" 32 32 100 $SECS); v=$(get "$a" rate); v=${v%.*}
  [ "${v:-0}" -gt $best_append ] && best_append=$v
  sleep 0.5
  f=$(run fanout "$url" $SUBS 8 $SECS); v=$(get "$f" rate); v=${v%.*}
  if [ "${v:-0}" -gt $best_rate ]; then best_rate=$v; best_fanout=$f; fi
  sleep 0.5
done
kill $pid; wait $pid 2>/dev/null || true

start live-small; small=$(run estuary "$url" $SMALL 20 $LIVE_SECS); kill $pid; wait $pid 2>/dev/null || true
start live-big; big=$(run estuary "$url" $BIG 2 $LIVE_SECS); kill $pid; wait $pid 2>/dev/null || true

copies=$(get "$best_fanout" copies)
ratio=$(awk -v a="${copies:-0}" -v b="$best_append" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
live() {  # the row of an estuary run
  echo "$(get "$1" p50) / $(get "$1" p99) ($(get "$1" sent) messages; $(get "$1" complete) of $(get "$1" readers) readers got all, $(get "$1" bad) out of order)"
}
echo "estuary: $( [ $quick = 1 ] && echo quick || echo full ) run, $(nproc) cores, load generator on the same machine"
echo "| workload | figure |"
echo "|---|---|"
echo "| append 32 conns x 32 streams /s (the floor) | $best_append |"
echo "| fan-out: appends/s to 1 source with $SUBS session streams (8 conns) | $best_rate (p99 $(get "$best_fanout" p99) ms) |"
echo "| fan-out: session-stream appends/s, against the floor | ${copies:-0} ($ratio) |"
echo "| $SMALL session streams, SSE reader each, 20 msgs/s: publish -> every reader p50 / p99 ms | $(live "$small") |"
echo "| $BIG session streams, SSE reader each, 2 msgs/s: p50 / p99 ms | $(live "$big") |"
