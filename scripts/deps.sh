#!/usr/bin/env bash
# scripts/deps.sh: installs what building and testing need, from Debian 12
# packages (and, for the conformance suite, the npm packages pinned in
# tests/conformance). Skips apt when everything is already there.
set -euo pipefail
packages=(build-essential cmake pkg-config libsqlite3-dev libsimdjson-dev libcpp-httplib-dev
          catch2 libfmt-dev libssl-dev libcurl4-openssl-dev sqlite3 awscli python3-botocore
          prometheus chromium nginx)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
