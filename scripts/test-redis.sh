#!/usr/bin/env bash
# The Redis suite: several nodes on one PostgreSQL database with Redis between them. Uses
# FRONTDESK_TEST_REDIS_URL (default redis://127.0.0.1:6379/), starting the machine's redis-server
# if it is installed but not answering, and the same PostgreSQL as scripts/test-postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-nextest >/dev/null 2>&1 || cargo install cargo-nextest --locked

redis="${FRONTDESK_TEST_REDIS_URL:-redis://127.0.0.1:6379/}"
if ! (command -v redis-cli >/dev/null && redis-cli -u "$redis" ping >/dev/null 2>&1); then
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  for _ in $(seq 1 30); do redis-cli -u "$redis" ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -u "$redis" ping >/dev/null || { echo "Redis is not reachable at $redis" >&2; exit 1; }

pg="${FRONTDESK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
psql "$pg" -Atc 'select 1' >/dev/null || { echo "PostgreSQL is not reachable at $pg (run scripts/test-postgres.sh first)" >&2; exit 1; }

export FRONTDESK_TEST_REDIS_URL="$redis" FRONTDESK_TEST_POSTGRES_URL="$pg"
cargo nextest run --workspace --locked --no-fail-fast -E 'test(/(^|::)redis::/)'
