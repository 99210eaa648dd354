#!/usr/bin/env bash
# Insights benchmark (issue: insights): every dashboard API call under 20 ms p99 with the synthetic
# hotline at 1 million cases and 5 million contacts, against the same aggregations run by DuckDB over the
# same records exported to Parquet, in the same run (target: at least 10 times faster than DuckDB).
#
#   bench/insights/run.sh [SCALE] [REQUESTS] [RUNS]      # scale 33.4 = 1.17 M cases, 5.0 M contacts
#
# The gap analysis (GET /api/v1/insights/gaps) is asked and timed the same way, reported apart ("what":
# "gaps"): 100 gap questions (bench/insights/gap_questions.py) against DuckDB's same analysis in SQL
# (bench/insights/duckdb_gaps.py), after checking that every answer is the same (compare_gaps.py).
#
# After the timed runs, WRITES (default 200) contacts are recorded over the API one by one, each followed
# at once by a dashboard question (bench/insights/after_write.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
SCALE=${1:-33.4}
REQUESTS=${2:-4000}
RUNS=${3:-3}
echo "{\"load_average_at_start\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
cargo build --release -q -p lantern-cli --bins
cargo build --release -q -p lantern-store --example insights_data
BIN=${CARGO_TARGET_DIR:-target}/release
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

# DuckDB from PyPI in a throwaway virtual environment.
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q duckdb==2.0.1
fi
PY=$work/venv/bin/python

# The loader's shortcut (cells computed from the records with the store's rules) is checked against the
# store's real write path first.
"$BIN/examples/insights_data" verify 0.02 7

export LANTERN_DATABASE=$work/bench.db LANTERN_KEY_FILE=$work/bench.keys LANTERN_LOG_LEVEL=warn
rm -f "$work/bench.db" "$work/bench.db-wal" "$work/bench.db-shm" "$work/bench.keys"
rm -rf "$work/data"
"$BIN/lantern" keys init >/dev/null
"$BIN/lantern" hotlines add --slug bench --name Bench >/dev/null
echo 'a long benchmark password' | "$BIN/lantern" users add --hotline bench --username bench-analyst --role analyst --full-name Bench >/dev/null
token=$("$BIN/lantern" tokens create --username bench-analyst --name bench 2>/dev/null)
echo 'a long benchmark password' | "$BIN/lantern" users add --hotline bench --username bench-advocate --role advocate --full-name Bench >/dev/null
advocate=$("$BIN/lantern" tokens create --username bench-advocate --name bench 2>/dev/null)
"$BIN/examples/insights_data" load "$work/bench.db" "$SCALE" 7 "$work/data"
"$PY" bench/insights/questions.py 200 >"$work/questions.txt"
"$PY" bench/insights/gap_questions.py 100 >"$work/gap_questions.txt"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/lantern" serve --bind "127.0.0.1:$port" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
# The first question reads the cells into memory (timed here, not in the runs).
start=$(date +%s%N)
"$BIN/lantern-loadgen" --addr "127.0.0.1:$port" --path /api/v1/insights/summary --token "$token" \
  --concurrency 1 --requests 1 >/dev/null
echo "{\"first_question_ms\":$(( ($(date +%s%N) - start) / 1000000 ))}"
# The first gap question reads the directory into memory and counts its supply (timed here too).
start=$(date +%s%N)
"$BIN/lantern-loadgen" --addr "127.0.0.1:$port" --path /api/v1/insights/gaps --token "$token" \
  --concurrency 1 --requests 1 >/dev/null
echo "{\"first_gap_question_ms\":$(( ($(date +%s%N) - start) / 1000000 ))}"

# The same answers on both sides.
"$PY" bench/insights/duckdb_bench.py "$work/data" "$work/questions.txt" 0 --answers "$work/duckdb_answers.json"
"$PY" bench/insights/compare.py "127.0.0.1:$port" "$token" "$work/questions.txt" "$work/duckdb_answers.json"
"$PY" bench/insights/duckdb_gaps.py "$work/data" "$work/gap_questions.txt" 0 --answers "$work/duckdb_gap_answers.json"
"$PY" bench/insights/compare_gaps.py "127.0.0.1:$port" "$token" "$work/gap_questions.txt" "$work/duckdb_gap_answers.json"

for run in $(seq "$RUNS"); do
  for c in 1 8; do
    "$BIN/lantern-loadgen" --addr "127.0.0.1:$port" --paths "$work/questions.txt" --token "$token" \
      --concurrency "$c" --requests "$REQUESTS" |
      sed "s/^/{\"tool\":\"lantern\",\"run\":$run,\"result\":/; s/\$/}/"
    "$BIN/lantern-loadgen" --addr "127.0.0.1:$port" --paths "$work/gap_questions.txt" --token "$token" \
      --concurrency "$c" --requests "$REQUESTS" |
      sed "s/^/{\"tool\":\"lantern\",\"what\":\"gaps\",\"run\":$run,\"result\":/; s/\$/}/"
  done
done
# Writes while the dashboard is in use: the question right after each write, and when the figures count it.
"$PY" bench/insights/after_write.py "127.0.0.1:$port" "$token" "$advocate" bench/intake/contact.json "${WRITES:-200}" "${NEED_WRITES:-100}"
kill "$pid"; wait "$pid" 2>/dev/null || true
"$PY" bench/insights/duckdb_bench.py "$work/data" "$work/questions.txt" "$RUNS"
"$PY" bench/insights/duckdb_gaps.py "$work/data" "$work/gap_questions.txt" "$RUNS"
echo "{\"load_average_at_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
