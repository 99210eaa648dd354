#!/usr/bin/env bash
# Web chat benchmark (issue: channels): CHATS concurrent help-seeker chats on /chat/socket, served by
# CONSOLES advocates on /chats/socket (each taking up to CHATS/CONSOLES chats), all on loopback against a
# release `lantern serve` on SQLite, the client (`lantern-chatload`) in a second process. After every chat is
# accepted, each exchanges MESSAGES messages each way, one a second per side, every message stored
# (encrypted, audited, fsynced in group commits) before it is delivered. Reports p50/p99 delivery latency
# and lost/reordered counts, one JSON line per run.
# Target: 1,000 concurrent chats, p99 < 50 ms, none lost or reordered.
#
#   bench/chat/run.sh [CHATS] [RUNS] [MESSAGES] [CONSOLES]
set -euo pipefail
cd "$(dirname "$0")/../.."
CHATS=${1:-1000}
RUNS=${2:-3}
MESSAGES=${3:-10}
CONSOLES=${4:-20}
LIMIT=$(( (CHATS + CONSOLES - 1) / CONSOLES ))
[ -n "${BIN:-}" ] || cargo build --release -q -p lantern-cli --bins
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
ulimit -n 65536 2>/dev/null || true

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/lantern.toml" <<TOML
public_url = "http://127.0.0.1:$port"
[chat]
hotline = "bench"
advocate_limit = $LIMIT
# Every chat of the benchmark comes from 127.0.0.1.
max_starts_per_hour = 100000000
TOML
export LANTERN_CONFIG=$work/lantern.toml LANTERN_DATABASE=$work/bench.db LANTERN_KEY_FILE=$work/lantern.keys LANTERN_LOG_LEVEL=warn
"$BIN/lantern" keys init >/dev/null
"$BIN/lantern" hotlines add --slug bench --name Bench >/dev/null
: >"$work/tokens.txt"
for i in $(seq "$CONSOLES"); do
  echo "a long benchmark password" | "$BIN/lantern" users add --hotline bench --username "adv$i" \
    --role advocate --full-name "Advocate $i" >/dev/null
  "$BIN/lantern" tokens create --username "adv$i" --name bench 2>/dev/null | grep -o 'lnt_[A-Za-z0-9_-]*' >>"$work/tokens.txt"
done
# A fresh server per run: the chats of a run stay with their consoles (the client does not end them).
for run in $(seq "$RUNS"); do
  "$BIN/lantern" serve --bind "127.0.0.1:$port" 2>>"$work/serve.log" &
  pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  "$BIN/lantern-chatload" --addr "127.0.0.1:$port" --tokens "$work/tokens.txt" --chats "$CHATS" \
    --messages "$MESSAGES" --interval-ms 1000 |
    sed "s/^/{\"backend\":\"sqlite\",\"run\":$run,\"result\":/; s/\$/}/"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
