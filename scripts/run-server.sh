#!/usr/bin/env bash
# scripts/run-server.sh [server flags]: builds durable-streams-server and runs
# it on 127.0.0.1:4437 with its SQLite store in ./data (flags pass through,
# e.g. --port 8080 --data-dir /var/lib/streams), or runs one of its
# subcommands (project ..., token ...). What building prints goes to stderr,
# so stdout is the server's alone: TOKEN=$(scripts/run-server.sh token ...).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" >&2
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target durable-streams-server >&2
exec "$root/build/durable-streams-server" "$@"
