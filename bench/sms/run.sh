#!/usr/bin/env bash
# SMS webhook benchmark (issue: channels): Twilio-signed inbound texts posted to /webhooks/sms/twilio
# over HTTP from a second process with 64 concurrent clients, each text checked (signature, form, keyword
# rules) and durably stored with its audit event before the TwiML answer. Every text has its own MessageSid
# (no redelivery shortcut); 2,000 senders, so most texts join a conversation and some open one.
# Target: >= 2,000/s. The PostgreSQL figure is reported beside it when a server is reachable.
#
#   bench/sms/run.sh [REQUESTS] [RUNS]
#
# BENCH_SERVER=PATH runs that `lantern` binary as the server (and for its setup) instead of the one
# built here, with this tree's load generator, to compare two versions under the same conditions;
# BENCH_SQLITE_ONLY=1 leaves PostgreSQL out.
set -euo pipefail
cd "$(dirname "$0")/../.."
REQUESTS=${1:-20000}
RUNS=${2:-3}
cargo build --release -q -p lantern-cli --bins
BIN=${CARGO_TARGET_DIR:-target}/release
SERVER=${BENCH_SERVER:-$BIN/lantern}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
TOKEN=bench-auth-token

# One file of signed bodies per run, so no MessageSid repeats across runs on one database.
signed_bodies() {
  python3 - "$1" "$2" "$3" "$4" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse
n, run, url, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
bodies = ["STOP texting me", "I need help, my boss keeps my passport", "BEFREE", "are you there?", "HELP"]
for i in range(n):
    p = {"MessageSid": "SM%08x%024x" % (run, i), "AccountSid": "AC" + "0" * 32,
         "From": "+1555%07d" % (2010000 + i % 2000), "To": "+18885550100",
         "Body": bodies[i % len(bodies)], "NumMedia": "0", "FromCity": "AUSTIN"}
    s = url + "".join(k + v for k, v in sorted(p.items()))
    sig = base64.b64encode(hmac.new(token.encode(), s.encode(), hashlib.sha1).digest()).decode()
    print(sig + "\t" + urllib.parse.urlencode(p))
PY
}

one_backend() {
  local name=$1 db=$2
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$work/$name.toml" <<TOML
public_url = "http://127.0.0.1:$port"
[sms]
auth_token = "$TOKEN"
numbers = [{ number = "+18885550100", hotline = "bench" }]
TOML
  export LANTERN_CONFIG=$work/$name.toml LANTERN_DATABASE=$db LANTERN_KEY_FILE=$work/$name.keys LANTERN_LOG_LEVEL=warn
  "$SERVER" keys init >/dev/null
  "$SERVER" hotlines add --slug bench --name Bench >/dev/null
  "$SERVER" serve --bind "127.0.0.1:$port" 2>"$work/$name.log" &
  local pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  for run in $(seq "$RUNS"); do
    signed_bodies "$REQUESTS" "$run" "http://127.0.0.1:$port/webhooks/sms/twilio" "$TOKEN" >"$work/bodies.tsv"
    "$BIN/lantern-loadgen" --addr "127.0.0.1:$port" --path /webhooks/sms/twilio \
      --signed-bodies "$work/bodies.tsv" --content-type application/x-www-form-urlencoded \
      --expect 200 --concurrency 64 --requests "$REQUESTS" |
      sed "s/^/{\"backend\":\"$name\",\"run\":$run,\"result\":/; s/\$/}/"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  unset LANTERN_CONFIG
}

one_backend sqlite "$work/bench.db"
if [ "${BENCH_SQLITE_ONLY:-}" != 1 ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && command -v psql >/dev/null; then
  pg=${LANTERN_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
  db=lantern_bench_$$
  psql "$pg" -qc "CREATE DATABASE $db" >/dev/null
  one_backend postgres "${pg%/*}/$db"
  psql "$pg" -qc "DROP DATABASE $db" >/dev/null || true
fi
