#!/usr/bin/env bash
# The real-browser end-to-end tests (tests/e2e): installs what a fresh machine lacks, builds the
# server, then runs the suite in headless Chromium. Safe to run again and again.
#
#   bash scripts/e2e.sh                 # everything
#   SKIP_BUILD=1 bash scripts/e2e.sh    # reuse target/debug/frontdesk as it is
#   FRONTDESK_BIN=/path/frontdesk bash scripts/e2e.sh
#   CHROMIUM=/path/chromium bash scripts/e2e.sh
#
# Screenshots and server logs land in tests/e2e/out/. Exits non-zero when anything fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "e2e: need root to run: $*" >&2
    return 1
  fi
}

# --- the browser: Debian's Chromium (playwright-core drives it; no browser downloads) -----------
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$CHROMIUM" != /usr/bin/chromium ]; then
    echo "e2e: CHROMIUM=$CHROMIUM is not an executable" >&2
    exit 1
  fi
  step "installing Chromium (apt)"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi
"$CHROMIUM" --version 2>/dev/null || true
# Emoji in screenshots: without a colour emoji font they render as empty boxes.
if [ ! -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
  step "installing an emoji font (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-color-emoji ||
    { as_root apt-get update && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-color-emoji; }
fi

# --- Node.js: the machine's own; the suite needs 20 or later ------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "e2e: node and npm are needed (Node.js 20 or later)" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "e2e: Node.js $(node --version) is too old; 20 or later is needed" >&2
  exit 1
fi

# --- the test's own packages (exact versions from package-lock.json) ----------------------------
step "npm ci (tests/e2e)"
(cd tests/e2e && npm ci --no-audit --no-fund)

# --- the server (web/dist is embedded; it is committed, so no npm build is needed here) ---------
if [ -z "${FRONTDESK_BIN:-}" ]; then
  export FRONTDESK_BIN="$root/target/debug/frontdesk"
  if [ "${SKIP_BUILD:-}" != 1 ]; then
    step "cargo build -p frontdesk-server"
    cargo build -p frontdesk-server
  fi
fi
if [ ! -x "$FRONTDESK_BIN" ]; then
  echo "e2e: no server binary at $FRONTDESK_BIN" >&2
  exit 1
fi

# --- the suite ----------------------------------------------------------------------------------
step "npm test (tests/e2e) against $FRONTDESK_BIN"
cd tests/e2e
npm test
