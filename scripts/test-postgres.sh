#!/usr/bin/env bash
# The PostgreSQL suite: every storage conformance test and protocol test again, on a real
# PostgreSQL. Uses FRONTDESK_TEST_POSTGRES_URL if set, else the machine's local server (started
# if it is installed but stopped). Each test creates its own fresh database.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-nextest >/dev/null 2>&1 || cargo install cargo-nextest --locked

url="${FRONTDESK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! psql "$url" -Atc 'select 1' >/dev/null 2>&1; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do psql "$url" -Atc 'select 1' >/dev/null 2>&1 && break; sleep 1; done
fi
psql "$url" -Atc 'select 1' >/dev/null || { echo "PostgreSQL is not reachable at $url" >&2; exit 1; }

# Drop databases left by earlier runs.
psql "$url" -Atc "select datname from pg_database where datname like 'fdtest_%'" | while read -r db; do
  psql "$url" -qc "drop database if exists \"$db\"" >/dev/null 2>&1 || true
done

# A private cluster that the restart test may stop and start without disturbing the others.
pgbin="/usr/lib/postgresql/$(ls /usr/lib/postgresql | head -n1)/bin"
restart_dir="$(mktemp -d /tmp/fd-pg-restart.XXXXXX)"
chown postgres "$restart_dir"
runuser -u postgres -- "$pgbin/initdb" -D "$restart_dir/data" -A trust -U postgres >/dev/null
printf "port = 5499\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" "$restart_dir" >> "$restart_dir/data/postgresql.conf"
runuser -u postgres -- "$pgbin/pg_ctl" -D "$restart_dir/data" -w -l "$restart_dir/data/log" start >/dev/null
cleanup() { runuser -u postgres -- "$pgbin/pg_ctl" -D "$restart_dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$restart_dir"; }
trap cleanup EXIT
export FRONTDESK_TEST_PG_RESTART_URL="postgres://postgres@127.0.0.1:5499/postgres"
export FRONTDESK_TEST_PG_RESTART_DATADIR="$restart_dir/data"

export FRONTDESK_TEST_POSTGRES_URL="$url"
cargo nextest run --workspace --locked --no-fail-fast -E 'test(/(^|::)postgres::/)'
