#!/usr/bin/env bash
# tests/conformance/run.sh SERVER_BINARY [server args...]
#
# Starts the server on a free loopback port with a fresh data directory, runs
# the official conformance suite (version pinned in package.json) against it,
# and prints "conformance run R: N passed, M failed, K skipped" for each of
# DS_CONFORMANCE_RUNS runs (default 1). Every block runs, forks and the
# reserved subscription APIs included (DS_CONFORMANCE_SUBSCRIPTIONS=0 skips
# those).
# DS_CONFORMANCE_LABEL, if set, is printed with each result line.
# DS_CONFORMANCE_AUTH=jwt runs the server with --auth jwt, a project
# _default made with the CLI, and every request of the suite carrying a
# write token of it. The suite's subscription tests name streams of several
# segments, which under project auth are other projects' streams: set
# DS_CONFORMANCE_SUBSCRIPTIONS=0 with it (tests/integration/subscriptions_test.cc
# covers the __ds routes under project auth).
# DS_CONFORMANCE_FRONT=nginx runs the suite through nginx with its cache on
# (deploy/nginx/durable-streams.conf, started by tests/nginx/front.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server=$1
shift
long_poll_ms=${DS_LONG_POLL_TIMEOUT_MS:-3000}

if [ ! -d "$here/node_modules/@durable-streams/server-conformance-tests" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi

work=$(mktemp -d)
cleanup() {
  if [ -f "$work/nginx/nginx.pid" ]; then kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true; fi
  if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

auth_args=()
token=""
if [ "${DS_CONFORMANCE_AUTH:-none}" = jwt ]; then
  "$server" project create _default --data-dir "$work/data" >/dev/null
  token=$("$server" token _default --scope write --ttl 2h --data-dir "$work/data")
  auth_args=(--auth jwt)
fi

front_args=()
if [ "${DS_CONFORMANCE_FRONT:-}" = nginx ]; then
  # Callback URLs must name the front, where the suite reaches the server.
  front_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  front_args=(--public-url "http://127.0.0.1:$front_port/v1/stream/")
fi
"$server" --port 0 --data-dir "$work/data" --long-poll-timeout "${long_poll_ms}ms" "${auth_args[@]}" \
  "${front_args[@]}" "$@" \
  >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/server.out")
if [ -z "$url" ]; then
  echo "server did not start:"; cat "$work/server.err"; exit 1
fi
if [ "${DS_CONFORMANCE_FRONT:-}" = nginx ]; then
  front=$("$here/../nginx/front.sh" "$url" "$work/nginx" "$front_port")
  url=$(echo "$front" | sed -n 's/^front on \([^ ]*\) .*/\1/p')
fi


status=0
runs=${DS_CONFORMANCE_RUNS:-1}
for run in $(seq 1 "$runs"); do
  rm -f "$work/result.json"
  (cd "$here" && DS_CONFORMANCE_URL="$url" DS_LONG_POLL_TIMEOUT_MS="$long_poll_ms" DS_CONFORMANCE_TOKEN="$token" \
    npx vitest run --reporter=dot --reporter=json --outputFile.json="$work/result.json") >"$work/vitest.out" 2>&1 || status=1
  if [ -f "$work/result.json" ]; then
    node -e '
      const r = require(process.argv[1]);
      let p = 0, f = 0, s = 0;
      for (const file of r.testResults) for (const t of file.assertionResults) {
        if (t.status === "passed") p++;
        else if (t.status === "failed") { f++; console.log("FAILED: " + t.fullName + "\n  " + (t.failureMessages || []).join("\n  ").slice(0, 2000)); }
        else s++;
      }
      console.log(`conformance run ${process.argv[2]}${process.argv[3]}: ${p} passed, ${f} failed, ${s} skipped`);
    ' "$work/result.json" "$run" "${DS_CONFORMANCE_LABEL:+ ($DS_CONFORMANCE_LABEL)}"
  else
    tail -40 "$work/vitest.out"; status=1
  fi
done
if ! kill -0 "$pid" 2>/dev/null; then
  echo "the server died during the run:"; tail -20 "$work/server.err"; status=1
fi
exit $status
