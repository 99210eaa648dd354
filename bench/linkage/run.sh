#!/usr/bin/env bash
# Linkage benchmark: Lantern vs Splink (DuckDB) on FEBRL3, FEBRL4 and generated people, same run.
# usage: bench/linkage/run.sh [RECORDS]   (RECORDS for the generated set, default 1000000)
# Needs: a release build (`cargo build --release -p lantern-cli -p lantern-linkage`), python3,
# /usr/bin/time (Debian's package `time`, installed here when missing). Creates a throwaway venv under $WORK (default /tmp/lantern-linkbench).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${WORK:-/tmp/lantern-linkbench}
RECORDS=${1:-1000000}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
mkdir -p "$WORK/data" "$WORK/out"
if [ ! -x /usr/bin/time ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq time >/dev/null 2>&1 || true
fi
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q recordlinkage splink duckdb
fi
PY=$WORK/venv/bin/python
# `lantern link` when the full CLI is built, else the identical stand-alone pipeline binary.
if [ -x "$BIN/lantern" ]; then LINK=("$BIN/lantern" link); else LINK=("$BIN/lantern-linkage"); fi
"$PY" "$HERE/export_febrl.py" "$WORK/data"
"$BIN/lantern-linkage-generate" --records "$RECORDS" --seed 7 --output "$WORK/data/people.csv"

measure() { # label, command...: prints label, wall seconds, CPU seconds (user + sys), peak MB, load
  local label=$1; shift
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/out/time.txt" "$@" > "$WORK/out/$label.log" 2>&1 || { echo "$label FAILED"; tail -5 "$WORK/out/$label.log"; return 0; }
  read -r secs kb user sys < "$WORK/out/time.txt"
  echo "$label wall_s=$secs cpu_s=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') peak_mb=$((kb / 1024)) load_before=$load load_after=$(cut -d' ' -f1 /proc/loadavg)"
}

for set in febrl3 febrl4 people; do
  case $set in
    febrl3) CFG=$HERE/febrl.toml; L=(--input "$WORK/data/febrl3.csv"); T=("$WORK/data/febrl3.csv");;
    febrl4) CFG=$HERE/febrl.toml; L=(--input "$WORK/data/febrl4a.csv" --input-b "$WORK/data/febrl4b.csv"); T=("$WORK/data/febrl4a.csv" "$WORK/data/febrl4b.csv");;
    people) CFG=$HERE/people.toml; L=(--input "$WORK/data/people.csv"); T=("$WORK/data/people.csv");;
  esac
  echo "== $set"
  # With each pair's explanation (the default), then without (the columns Splink writes).
  measure "$set-lantern" "${LINK[@]}" "${L[@]}" --config "$CFG" --id rec_id --output "$WORK/out/$set-lantern-pairs.csv"
  "$PY" "$HERE/evaluate.py" "$WORK/out/$set-lantern-pairs.csv" "${T[@]}"
  measure "$set-lantern-noexpl" "${LINK[@]}" "${L[@]}" --config "$CFG" --id rec_id --no-explanations --output "$WORK/out/$set-lantern-noexpl-pairs.csv"
  "$PY" "$HERE/evaluate.py" "$WORK/out/$set-lantern-noexpl-pairs.csv" "${T[@]}"
  for mode in default capped; do
    measure "$set-splink-$mode" "$PY" "$HERE/splink_run.py" "$set" "$WORK/data" "$WORK/out/$set-splink-$mode.csv" "$mode" "$CFG"
    [ -f "$WORK/out/$set-splink-$mode.csv" ] && "$PY" "$HERE/evaluate.py" "$WORK/out/$set-splink-$mode.csv" "${T[@]}"
  done
done
