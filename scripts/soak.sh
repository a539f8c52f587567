#!/usr/bin/env bash
# The long delivery proof (crates/server/tests/it/soak.rs): visitors send for MINUTES (default 10)
# while a release build of the server, on SQLite, is killed with SIGKILL and started again
# every 30–90 s. Prints a summary; fails on any acknowledged message lost, stored twice, out of
# order, or a gap in seq.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
[[ "$minutes" =~ ^[0-9]+$ && "$minutes" -gt 0 ]] || { echo "usage: $0 [MINUTES]" >&2; exit 2; }

cargo build --release --bin frontdesk
target="${CARGO_TARGET_DIR:-target}"
FRONTDESK_BIN="$(realpath "$target/release/frontdesk")" FRONTDESK_SOAK_SECS=$((minutes * 60)) \
  cargo test -p frontdesk-server --test it soak:: -- --nocapture
