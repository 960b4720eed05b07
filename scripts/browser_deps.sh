#!/usr/bin/env bash
# Installs what the browser tests (tests/browser) and the rider widget need, idempotently:
#   - the widget's npm packages (socket.io-client) from ridedesk/widget/package-lock.json,
#     reinstalled only when node_modules is missing or older than the lock file;
#   - Debian's chromium and fonts (CJK, emoji), only if missing (needs root or sudo).
# Playwright drives /usr/bin/chromium; it never downloads browsers of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

WIDGET=ridedesk/widget
stamp=$WIDGET/node_modules/.package-lock.json   # written by npm on every install
if [ ! -f "$stamp" ] || [ "$WIDGET/package-lock.json" -nt "$stamp" ] || [ "$WIDGET/package.json" -nt "$stamp" ]; then
  command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ (apt-get install nodejs npm)" >&2; exit 1; }
  echo "==> npm ci in $WIDGET"
  (cd "$WIDGET" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$stamp"
else
  echo "==> $WIDGET/node_modules is up to date"
fi

# `browser_deps.sh widget`: only what the widget needs to be served (make run).
[ "${1:-}" = widget ] && exit 0

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Chinese fonts, so screenshots show 汉字 rather than boxes.
if ! command -v fc-list >/dev/null || [ -z "$(fc-list :lang=zh 2>/dev/null | head -1)" ]; then missing+=(fonts-noto-cjk); fi
# ... and emoji (the bot says 🚲).
if ! command -v fc-list >/dev/null || ! fc-list 2>/dev/null | grep -qi "emoji"; then missing+=(fonts-noto-color-emoji); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "missing ${missing[*]} and this user cannot install them: apt-get install ${missing[*]} as root" >&2; exit 1
  fi
  echo "==> apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "==> /usr/bin/chromium and its fonts are present"
fi
