#!/usr/bin/env bash
# tests/cluster/run.sh SERVER_BINARY [--long]: starts the local cluster
# (deploy/cluster.sh: three nodes, the S3 test server, nginx) in a fresh
# directory, runs cluster.test.mjs against it with the official TypeScript
# client and stops it. The default run takes about half a minute (30
# streams, 200 messages on each tailed stream); --long takes 300 streams and
# 5,000 messages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export DS_SERVER=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
streams=30 messages=200
if [ "${2:-}" = --long ]; then streams=300 messages=5000; fi
if [ ! -d "$here/node_modules/@durable-streams/client" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi
export DS_CLUSTER_DIR=$(mktemp -d)/cluster
export DS_CLUSTER=$root/deploy/cluster.sh
trap '"$DS_CLUSTER" down; rm -rf "$(dirname "$DS_CLUSTER_DIR")"' EXIT
url=$("$DS_CLUSTER" up | sed -n 's/^cluster on //p')
DS_CLUSTER_URL=$url DS_CLUSTER_STREAMS=$streams DS_CLUSTER_MESSAGES=$messages \
  node "$here/cluster.test.mjs"
