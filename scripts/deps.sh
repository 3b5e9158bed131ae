#!/usr/bin/env bash
# Installs the Debian packages seatcast needs when they are missing.
#   scripts/deps.sh          build + run: libwebsockets-dev libpq-dev pkg-config postgresql
#   scripts/deps.sh test     also what the test suite uses (docker-compose to validate the compose file)
set -euo pipefail
need=(libwebsockets-dev libpq-dev pkg-config postgresql)
if [ "${1:-}" = test ]; then need+=(docker-compose); fi

missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "deps: please install as root: apt-get install -y ${missing[*]}" >&2; exit 1
  fi
fi
# apt can meet a held dpkg lock (another apt run, unattended upgrades): retry.
for attempt in 1 2 3 4 5 6; do
  if $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
     && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "deps: apt-get failed (attempt $attempt); retrying" >&2
  sleep 5
done
exit 1
