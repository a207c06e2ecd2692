#!/usr/bin/env bash
# tests/nginx/front.sh ORIGIN_URL WORK_DIR [PORT]: nginx with
# deploy/nginx/durable-streams.conf in front of ORIGIN_URL (http://host:port),
# started by deploy/nginx/start.sh; prints "front on http://127.0.0.1:PORT
# pid PID" once it answers.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/deploy/nginx/start.sh" "${1#http://}" "$2" ${3:+"$3"}
