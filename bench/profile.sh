#!/usr/bin/env bash
# Profiles Rampart's request path with valgrind's callgrind (instruction counts: repeatable,
# whatever else the machine is doing; this machine's perf has no hardware counters).
#
#   bench/profile.sh [WORKLOAD] [REQUESTS]     (default: get-item 2000)
#
# Starts target/release/rampart under callgrind on 127.0.0.1, prepares a 1000-item table with
# rampart-bench, sends REQUESTS requests of WORKLOAD over 4 connections, stops the server by
# pid (SIGTERM) and prints the top functions, inclusive and exclusive, into
# $OUT/callgrind-WORKLOAD.txt. Needs valgrind (Debian's package) and a release build.
# RAMPART_BIN profiles another build of the server (an A/B against an older commit).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
WORKLOAD=${1:-get-item}
REQUESTS=${2:-2000}
OUT=${OUT:-bench/results/profile}
PORT=${PORT:-18100}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
bench=$root/target/release/rampart-bench
rampart=${RAMPART_BIN:-$root/target/release/rampart}
data=$(mktemp -d "$OUT/data.XXXXXX")

export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1
export RAMPART_ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RAMPART_ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  RAMPART_ACCOUNT_ID=111122223333 RAMPART_ROOT_KEY=$(head -c 32 /dev/urandom | base64) RAMPART_LOG=warn

# Prepare without the profiler (so the profile holds only the measured requests).
"$bench" startup --health "http://127.0.0.1:$PORT/health" --log "$OUT/profile-server.log" -- \
  "$rampart" serve --data-dir "$data" --listen "127.0.0.1:$PORT" > "$OUT/prep-start.json"
pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$OUT/prep-start.json")
"$bench" run --endpoint "http://127.0.0.1:$PORT" --table profile --keyspace 1000 --prepare-only --quiet
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done

out=$OUT/callgrind-$WORKLOAD.out
"$bench" startup --timeout 120s --health "http://127.0.0.1:$PORT/health" --log "$OUT/profile-server.log" -- \
  valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
  "$rampart" serve --data-dir "$data" --listen "127.0.0.1:$PORT" > "$OUT/profile-start.json"
pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$OUT/profile-start.json")
trap 'kill -TERM "$pid" 2>/dev/null || true' EXIT
"$bench" run --endpoint "http://127.0.0.1:$PORT" --table profile --keyspace 1000 \
  --workload "$WORKLOAD" --requests "$REQUESTS" --connections 4 --quiet --json > "$OUT/profile-$WORKLOAD.json"
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
trap - EXIT
{
  echo "# $WORKLOAD, $REQUESTS requests; inclusive"
  callgrind_annotate --inclusive=yes "$out" 2>/dev/null | head -80
  echo
  echo "# exclusive"
  callgrind_annotate "$out" 2>/dev/null | head -60
} > "$OUT/callgrind-$WORKLOAD.txt"
rm -rf "$data"
echo "$OUT/callgrind-$WORKLOAD.txt"
