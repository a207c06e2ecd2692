#!/usr/bin/env bash
# tests/s3/with-s3-server.sh COMMAND [ARGS...]
#
# Starts the S3-compatible test server (s3-server.mjs: s3rver behind a front
# that verifies Signature V4) on a free loopback port with a fresh directory,
# runs COMMAND with every argument "{s3}" replaced by its endpoint URL and
# with DS_S3_ENDPOINT, DS_S3_ACCESS_KEY_ID and DS_S3_SECRET_ACCESS_KEY set,
# then stops it. Exits with COMMAND's status; fails if any request reached
# the server with a bad signature.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/s3rver" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi
export DS_S3_ACCESS_KEY_ID=${DS_S3_ACCESS_KEY_ID:-AKIDDURABLESTREAMS}
# A secret with '/' and '+', as real ones have.
export DS_S3_SECRET_ACCESS_KEY=${DS_S3_SECRET_ACCESS_KEY:-wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTKEY}

work=$(mktemp -d)
cleanup() {
  if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/objects"
node "$here/s3-server.mjs" --dir "$work/objects" --port 0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$work/out" 2>/dev/null && break
  sleep 0.1
done
endpoint=$(sed -n 's/^listening on //p' "$work/out")
if [ -z "$endpoint" ]; then
  echo "the S3 test server did not start:"; cat "$work/err"; exit 1
fi
export DS_S3_ENDPOINT=$endpoint
export DS_S3_OBJECT_DIR=$work/objects
args=()
for a in "$@"; do args+=("${a//\{s3\}/$endpoint}"); done
status=0
"${args[@]}" || status=$?
stats=$(curl -s "$endpoint/__stats" || echo '{}')
echo "S3 test server: $stats"
if ! echo "$stats" | grep -q '"rejected":0'; then
  echo "requests with bad signatures reached the S3 test server:"; cat "$work/err"; status=1
fi
exit $status
