#!/usr/bin/env bash
# The whole test suite on embedded SQLite: formatting, lints, the type-checked web build (and
# that the committed web/dist and generated TypeScript are fresh), unit, property, conformance
# and protocol tests, then the real-browser end-to-end tests.
# The PostgreSQL copies of the conformance and protocol tests run in scripts/test-postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-nextest >/dev/null 2>&1 || cargo install cargo-nextest --locked

step() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "test: need root to run: $*" >&2
    return 1
  fi
}

# The email tests send through a real SMTP server: Debian's aiosmtpd, run by the system Python.
if ! /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  step "installing the local SMTP server for the email tests (apt: python3-aiosmtpd)"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-aiosmtpd
fi

step "web: install and build (type-checked, budget-checked)"
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build && npm test)

step "rust: format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rust: tests (SQLite)"
cargo nextest run --workspace --locked --no-fail-fast -E 'not test(/(^|::)(postgres|redis)::/)'

step "generated files are fresh"
if [ -n "$(git status --porcelain -- web/dist web/src/generated)" ]; then
  git status --short -- web/dist web/src/generated
  echo "web/dist or web/src/generated differs from what is committed: rebuild and commit them." >&2
  exit 1
fi

step "bench: the Node ws peer relay behaves as the Rust one (bench/relay-node)"
(cd bench/relay-node && npm ci --no-audit --no-fund --loglevel=error && npm test)

step "end-to-end (Debian chromium, playwright-core)"
bash scripts/e2e.sh
