#!/usr/bin/env bash
# bench/cluster.sh [--quick]: SSE fan-out on the local cluster (deploy/cluster.sh:
# three nodes, the S3 test server, nginx in front) against one server alone,
# in one run; figures, never assertions (docs/performance.md):
#   - 1,000 SSE readers straight at one server, on one stream, a writer at
#     20 msgs/s: append -> every reader has it, p50/p99, readers that got
#     every message exactly once and in order;
#   - 1,000 SSE readers through nginx, spread over the three nodes (333 or
#     334 on a stream each node owns), a writer at 20 msgs/s on each stream.
# Every process shares this machine's cores (the load generator too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1
if [ $quick = 1 ]; then READERS=150; SECS=2; else READERS=1000; SECS=10; fi
RATE=20
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target durable-streams-server load >/dev/null
server="$build/durable-streams-server"
load="$build/bench/load"
work=$(mktemp -d)
export DS_CLUSTER_DIR=$work/cluster DS_SERVER=$server
trap '"$root/deploy/cluster.sh" down; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# One server alone.
"$server" --port 0 --data-dir "$work/single" >"$work/single.out" 2>&1 &
single=$!
for _ in $(seq 1 100); do grep -qs '^listening on ' "$work/single.out" && break; sleep 0.1; done
origin=$(sed -n 's/^listening on //p' "$work/single.out")
alone=$("$load" ssefan "$origin/v1/stream" "$READERS" "$RATE" "$SECS" | grep '^result')
kill "$single"; wait "$single" 2>/dev/null || true

# The cluster: a stream owned by each node, a third of the readers on each.
front=$("$root/deploy/cluster.sh" up | sed -n 's/^cluster on //p')
nodes=$(sed -n 's/^nodes=//p' "$DS_CLUSTER_DIR/cluster.env")
pids=()
for n in n1 n2 n3; do
  i=0
  while [ "$("$server" stream owner "bench/sse-$n-$i" --nodes "$nodes")" != "$n" ]; do i=$((i + 1)); done
  share=$((READERS / 3))
  [ $n = n1 ] && share=$((READERS - 2 * (READERS / 3)))
  LOAD_PATH="bench/sse-$n-$i" "$load" ssefan "$front/v1/stream" "$share" "$RATE" "$SECS" \
    > "$work/$n.result" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
sum() { local t=0 n; for n in n1 n2 n3; do t=$((t + $(get "$(grep '^result' "$work/$n.result")" "$1"))); done; echo $t; }
worst() {  # the largest of the three
  for n in n1 n2 n3; do get "$(grep '^result' "$work/$n.result")" "$1"; done | sort -g | tail -1
}
echo "cluster: $( [ $quick = 1 ] && echo quick || echo full ) run, $(nproc) cores, $READERS SSE readers, writers at $RATE msgs/s for $SECS s, everything on this machine"
echo "| layout | readers complete | p50 ms | p99 ms |"
echo "|---|---|---|---|"
echo "| one server, one stream, straight | $(get "$alone" complete)/$(get "$alone" readers) | $(get "$alone" p50) | $(get "$alone" p99) |"
echo "| three nodes through nginx, one stream each | $(sum complete)/$(sum readers) | $(worst p50) (worst node) | $(worst p99) (worst node) |"
for n in n1 n2 n3; do echo "  $n: $(grep '^result' "$work/$n.result")"; done
