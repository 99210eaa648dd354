#!/usr/bin/env bash
# Intake benchmark (issue: contacts, cases and screening): recording a contact with its screening over
# HTTP, durably committed, from a second process with 64 concurrent clients. Target: >= 2,000/s and
# p99 < 25 ms on SQLite; the PostgreSQL figure is reported beside it when a server is reachable.
#
#   bench/intake/run.sh [REQUESTS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
REQUESTS=${1:-20000}
RUNS=${2:-3}
cargo build --release -q -p lantern-cli --bins
BIN=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

one_backend() {
  local name=$1 db=$2
  export LANTERN_DATABASE=$db LANTERN_KEY_FILE=$work/$name.keys LANTERN_LOG_LEVEL=warn
  "$BIN/lantern" keys init >/dev/null
  "$BIN/lantern" hotlines add --slug bench --name Bench >/dev/null
  echo 'a long benchmark password' | "$BIN/lantern" users add --hotline bench --username "bench-$name" --role advocate --full-name Bench >/dev/null
  local token; token=$("$BIN/lantern" tokens create --username "bench-$name" --name bench 2>/dev/null)
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$BIN/lantern" serve --bind "127.0.0.1:$port" 2>"$work/$name.log" &
  local pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  for run in $(seq "$RUNS"); do
    "$BIN/lantern-loadgen" --addr "127.0.0.1:$port" --path /api/v1/contacts --token "$token" \
      --body-file bench/intake/contact.json --expect 201 --concurrency 64 --requests "$REQUESTS" |
      sed "s/^/{\"backend\":\"$name\",\"run\":$run,\"result\":/; s/\$/}/"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

one_backend sqlite "$work/bench.db"
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && command -v psql >/dev/null; then
  pg=${LANTERN_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
  db=lantern_bench_$$
  psql "$pg" -qc "CREATE DATABASE $db" >/dev/null
  one_backend postgres "${pg%/*}/$db"
  psql "$pg" -qc "DROP DATABASE $db" >/dev/null || true
fi
