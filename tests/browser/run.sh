#!/usr/bin/env bash
# tests/browser/run.sh SERVER_BINARY [SCREENSHOT.png]: the admin page in
# headless Chromium (admin.test.mjs), with the pinned puppeteer-core.
set -euo pipefail
args=()
for a in "$@"; do args+=("$(realpath -m "$a")"); done
cd "$(dirname "$0")"
[ -d node_modules/puppeteer-core ] || npm ci --no-audit --no-fund --silent
exec node admin.test.mjs "${args[@]}"
