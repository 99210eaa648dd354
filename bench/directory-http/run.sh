#!/usr/bin/env bash
# Directory search over HTTP (issue: referral directory): at least 10,000 searches a second on 2 cores,
# from a second process on loopback. The server holds the demo network (ENTRIES services at locations,
# 100,000 by default as in the in-process benchmark, generated deterministically and imported as an HSDS
# data package); the load generator replays
# realistic searches (a point near a real location, 10-150 km, one or two service types, a population,
# a language, open now) as POST bodies, 64 keep-alive clients.
#
#   bench/directory-http/run.sh [ENTRIES] [REQUESTS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ENTRIES=${1:-100000}
REQUESTS=${2:-100000}
RUNS=${3:-3}
cargo build --release -q -p lantern-cli --bins
cargo build --release -q -p lantern-directory --example demo_export
BIN=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

export LANTERN_DATABASE=$work/bench.db LANTERN_KEY_FILE=$work/bench.keys LANTERN_LOG_LEVEL=warn
"$BIN/lantern" keys init >/dev/null
"$BIN/lantern" hotlines add --slug bench --name Bench >/dev/null
"$BIN/examples/demo_export" 42 "$ENTRIES" "$work/network" >&2
"$BIN/lantern" directory import --hotline bench "$work/network" >&2
echo 'a long benchmark password' | "$BIN/lantern" users add --hotline bench --username bench --role advocate --full-name Bench >/dev/null
token=$("$BIN/lantern" tokens create --username bench --name bench 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/lantern" serve --bind "127.0.0.1:$port" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# Realistic searches from the network's own locations (read through the HSDS API).
python3 -c 'import sys, urllib.request as u; sys.stdout.write(u.urlopen(u.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})).read().decode())' \
  "http://127.0.0.1:$port/api/v1/hsds/service_at_locations?format=ndjson" "$token" >"$work/sal.ndjson"
python3 bench/directory-http/queries.py 7 10000 <"$work/sal.ndjson" >"$work/queries.ndjson"
# How many results the searches return (first 500), so the figure is not one of empty answers.
python3 - "$port" "$token" "$work/queries.ndjson" <<'PY' >&2
import json, sys, urllib.request
port, token, path = sys.argv[1], sys.argv[2], sys.argv[3]
n = hits = empty = 0
for line in open(path).readlines()[:500]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/directory/search", data=line.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    c = json.load(urllib.request.urlopen(req))["count"]
    n += 1; hits += c; empty += c == 0
print(f"searches: mean {hits / n:.1f} results, {empty} of {n} empty")
PY
for run in $(seq "$RUNS"); do
  "$BIN/lantern-loadgen" --addr "127.0.0.1:$port" --path /api/v1/directory/search --token "$token" \
    --bodies "$work/queries.ndjson" --expect 200 --concurrency 64 --requests "$REQUESTS" |
    sed "s/^/{\"entries\":$ENTRIES,\"run\":$run,\"result\":/; s/\$/}/"
done
kill "$pid"; wait "$pid" 2>/dev/null || true
