#!/usr/bin/env bash
# tests/nginx/collapse.sh SERVER_BINARY: 1,000 concurrent identical catch-up
# reads through nginx (deploy/nginx/durable-streams.conf) reach the origin
# as at most a handful of requests (its /metrics counts them), and every
# reader gets the same bytes. Prints "collapse: N origin reads for 1000
# readers" and exits non-zero above the limit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server=$1
limit=${DS_COLLAPSE_LIMIT:-5}
work=$(mktemp -d)
cleanup() {
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$server" --port 0 --data-dir "$work/data" --registry off --max-read-bytes 1000000 >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 1 100); do grep -qs '^listening on ' "$work/server.out" && break; sleep 0.1; done
origin=$(sed -n 's/^listening on //p' "$work/server.out")
front=$("$here/front.sh" "$origin" "$work/nginx" | sed -n 's/^front on \([^ ]*\) .*/\1/p')

# Two 1 MB messages: a read from the start stops behind the tail (at
# --max-read-bytes), so it is cacheable.
head -c 1000000 /dev/zero | tr '\0' 'a' > "$work/a"
curl -sf -X PUT -H 'Content-Type: text/plain' --data-binary @"$work/a" "$origin/v1/stream/big" >/dev/null
curl -sf -X POST -H 'Content-Type: text/plain' --data-binary @"$work/a" "$origin/v1/stream/big" >/dev/null

gets() {  # the origin's GET 2xx count
  curl -sf "$origin/metrics" | sed -n 's/^durable_streams_http_requests_total{method="GET",outcome="2xx"} //p'
}
before=$(gets)
seq 1 1000 | xargs -P 200 -I{} sh -c \
  "curl -sf -o /dev/null -w '%{size_download} %header{x-cache-status}\n' '$front/v1/stream/big?offset=-1'" \
  > "$work/results"
after=$(gets)
origin_reads=$((after - before - 1))  # the first scrape is counted by the second
sizes=$(awk '{print $1}' "$work/results" | sort -u | tr '\n' ' ')
statuses=$(awk '{print $2}' "$work/results" | sort | uniq -c | tr '\n' ' ' | tr -s ' ')
echo "collapse: $origin_reads origin reads for $(wc -l < "$work/results") readers (sizes: $sizes; cache: $statuses)"
[ "$(wc -l < "$work/results")" -eq 1000 ] || { echo "not every reader got an answer"; exit 1; }
[ "$sizes" = "1000000 " ] || { echo "readers got different bodies"; exit 1; }
[ "$origin_reads" -le "$limit" ] || { echo "more than $limit origin reads"; exit 1; }
