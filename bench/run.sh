#!/usr/bin/env bash
# Reproduces the figures of docs/performance.md on this machine, in one run:
#
#   1. builds Rampart and rampart-bench (release);
#   2. installs the peers from the project's own files: dynalite (bench/package.json, npm) and
#      moto in server mode (bench/requirements.txt, PyPI, venv in bench/.venv);
#   3. for each server in turn (the bare HTTP ceiling, Rampart, dynalite, moto), on 127.0.0.1:
#      starts it, records its idle memory, prepares a table of $KEYSPACE items, runs GetItem,
#      PutItem, Query (10 items) and YCSB-A (50/50 GetItem/UpdateItem) closed loop, then GetItem
#      and PutItem open loop at half the measured peak (p99 at half load), and stops it by pid;
#   4. Rampart only: cold start (empty data directory, and again with the data), and throughput
#      as the table grows through $SCALES items.
#
# Rampart is measured with an IAM user's access key (IDENTITY=user), as real applications call
# it, so every request is authorized by evaluating a policy: bench/iam_identity.py creates the
# user `bench` with an inline policy allowing exactly rampart-bench's calls on its tables and
# denying DeleteTable on every table. IDENTITY=root uses the account root's key (no policy is
# evaluated). The peers always get the plain credentials (they check no signature or policy).
#
# Results: one JSON report per run, the servers' logs, machine.txt and summary.md in $OUT.
# Knobs (environment): OUT, DURATION (10s), WARMUP (2s), CONNS (16), KEYSPACE (10000),
# SCALES ("10000 100000 1000000"), ITEM_SIZE (256), SERVERS ("ceiling rampart dynalite moto"),
# PORT_BASE (18000), SKIP_BUILD (1 to use the binaries already built), NICE (e.g. -10: run the
# servers and the load generator at that priority, to keep a shared machine's other work from
# preempting them; negative values need root), IDENTITY (user: an IAM user's key, the default;
# root: the account root's key), LEADING_KEYS (with IDENTITY=user, e.g. 'user*': the user's
# policy also requires dynamodb:LeadingKeys to match, as fine-grained access control does, so
# every request builds its condition keys), PIN (1: run every server pinned to one CPU and
# rampart-bench pinned to another, with taskset, for the whole run, so the open-loop client's own
# wake-ups don't land on the server's core; needs two CPUs and taskset from util-linux), PIN_CPUS
# (with PIN=1, "SERVER_CPU CLIENT_CPU"; by default the first two CPUs this script may use),
# SERVER_THREADS (e.g. 1: Rampart's --worker-threads and the ceiling's --threads; by default
# each uses every CPU it may, as users run them; dynalite is one thread whatever this says),
# STEADINESS (5s: how long the CPU steadiness check spins, before and after the servers).
#
# With PIN=1 every figure is of a server on one core: the closed-loop peaks are the pinned
# (one-core) peaks, and the open loop runs at half of that pinned peak, so "p99 at half of
# peak" is measured with the client on its own core. machine.txt and summary.md say so.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

OUT=${OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-16}
KEYSPACE=${KEYSPACE:-10000}
SCALES=${SCALES:-"10000 100000 1000000"}
ITEM_SIZE=${ITEM_SIZE:-256}
SERVERS=${SERVERS:-"ceiling rampart dynalite moto"}
PORT_BASE=${PORT_BASE:-18000}
IDENTITY=${IDENTITY:-user}
case $IDENTITY in
  user | root) ;;
  *) echo "IDENTITY must be user or root, not $IDENTITY" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ceiling_threads=()
rampart_threads=()
if [ -n "${SERVER_THREADS:-}" ]; then
  ceiling_threads=(--threads "$SERVER_THREADS")
  rampart_threads=(--worker-threads "$SERVER_THREADS")
fi

log() { printf '== %s\n' "$*" >&2; }

# --- 1. build ------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building release binaries"
  cargo build --release --locked -p rampart-server -p rampart-bench --bins
fi
bench=$root/target/release/rampart-bench
rampart=$root/target/release/rampart
prio=()
[ -n "${NICE:-}" ] && prio=(nice -n "$NICE")
# PIN=1: servers run under server_pin (the startup command's child is exec'd by taskset, so the
# pid stays the server's and its threads and child processes inherit the CPU), every
# rampart-bench (load generator, startup prober) under client_pin. Composes with prio.
server_pin=()
client_pin=()
case ${PIN:-0} in
  0) ;;
  1)
    command -v taskset > /dev/null || { echo "PIN=1 needs taskset (util-linux)" >&2; exit 2; }
    allowed=$(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')
    read -r -a cpus <<< "${PIN_CPUS:-$allowed}"
    if [ "$(nproc)" -lt 2 ] || [ "${#cpus[@]}" -lt 2 ] || [ "${cpus[0]}" = "${cpus[1]}" ]; then
      echo "PIN=1 needs two distinct CPUs (nproc: $(nproc), allowed: $allowed, PIN_CPUS: ${PIN_CPUS:-unset})" >&2
      exit 2
    fi
    server_cpu=${cpus[0]}
    client_cpu=${cpus[1]}
    if ! taskset -c "$server_cpu" true || ! taskset -c "$client_cpu" true; then
      echo "PIN=1: cannot pin to CPUs $server_cpu and $client_cpu" >&2
      exit 2
    fi
    server_pin=(taskset -c "$server_cpu")
    client_pin=(taskset -c "$client_cpu")
    ;;
  *) echo "PIN must be 0 or 1, not $PIN" >&2; exit 2 ;;
esac

# --- 2. peers ------------------------------------------------------------------------------
needs() { case " $SERVERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if needs dynalite && { [ ! -d bench/node_modules/dynalite ] || ! cmp -s bench/package-lock.json bench/node_modules/.rampart-installed; }; then
  log "installing dynalite (npm)"
  (cd bench && npm ci --no-audit --no-fund --loglevel=error)
  cp bench/package-lock.json bench/node_modules/.rampart-installed
fi
if needs moto && { [ ! -x bench/.venv/bin/moto_server ] || ! cmp -s bench/requirements.txt bench/.venv/requirements.txt; }; then
  log "installing moto[server] (PyPI)"
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
  cp bench/requirements.txt bench/.venv/requirements.txt
fi
# The IAM user is made with boto3 from the repository's venv (the one scripts/test makes).
if needs rampart && [ "$IDENTITY" = user ] && ! .venv/bin/python -c 'import boto3' 2>/dev/null; then
  log "installing boto3 (PyPI, venv in .venv)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt
  cp tests/e2e/requirements.txt .venv/requirements.txt
fi

# --- the machine ---------------------------------------------------------------------------
# How steady the CPUs are, with nothing else of ours running (rampart-bench steadiness): on a
# shared VM a vCPU can run slower for tens of milliseconds with no steal time, and an open-loop
# run that catches such a spell reports the backlog as the server's latency. Measured before
# the servers and again after them; machine.txt gets one line per measurement.
steadiness() {
  "${prio[@]}" "$bench" steadiness --duration "${STEADINESS:-5s}" --json > "$OUT/steadiness-$1.json"
  python3 - "$OUT/steadiness-$1.json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpus = "; ".join(
    f"cpu-thread {i}: {t['slow_share'] * 100:.1f}% of windows slow, {t['slow_runs_10ms']} runs >= 10 ms, "
    f"longest {t['longest_slow_ms']:.0f} ms"
    for i, t in enumerate(r["threads"]))
print(f"steadiness at {sys.argv[2]} ({r['seconds']:.0f} s, {r['window_ms']:g} ms windows, slow = below "
      f"{r['threshold'] * 100:.0f}% of median): {cpus}")
PY
}
log "measuring the CPUs' steadiness"
steady_start=$(steadiness start)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $(nproc)"
  echo "memory: $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "kernel: $(uname -sr)"
  echo "disk: $(df -h "$OUT" | awk 'NR==2 {print $1 " " $2}')"
  echo "rustc: $(rustc --version 2>/dev/null || echo '?')"
  echo "node: $(node --version 2>/dev/null || echo '?')  python: $(python3 --version 2>&1)"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$steady_start"
  echo "settings: duration=$DURATION warmup=$WARMUP connections=$CONNS keyspace=$KEYSPACE item_size=$ITEM_SIZE nice=${NICE:-0}"
  if [ "${#server_pin[@]}" -gt 0 ]; then
    echo "pinned: every server on CPU $server_cpu, rampart-bench on CPU $client_cpu (taskset); peaks are one-core server peaks, and the open loop runs at half of that pinned peak"
  fi
  if [ -n "${SERVER_THREADS:-}" ]; then
    echo "server threads: $SERVER_THREADS (rampart --worker-threads, ceiling --threads)"
  fi
  if [ "$IDENTITY" = user ]; then
    echo "identity: rampart signed as IAM user bench (inline policy: allow rampart-bench's 7 actions on its table${LEADING_KEYS:+ where dynamodb:LeadingKeys is like '$LEADING_KEYS'}, deny DeleteTable on all tables; rampart-*identity-policy.json); peers with plain credentials"
  else
    echo "identity: rampart signed as the account root (no policy evaluated); peers with plain credentials"
  fi
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# --- helpers -------------------------------------------------------------------------------
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE || true
# The key the load generator signs with: the root's, unless make_identity sets the IAM user's.
key_id=$AWS_ACCESS_KEY_ID
secret=$AWS_SECRET_ACCESS_KEY

pids=()
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
}
trap cleanup EXIT

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# start NAME HEALTH_URL ANY_STATUS(0/1) CMD... : starts a server, sets $pid, records readiness.
start() {
  local name=$1 health=$2 any=$3
  shift 3
  local extra=()
  [ "$any" = 1 ] && extra=(--any-status)
  "${prio[@]}" "${client_pin[@]}" "$bench" startup --health "$health" "${extra[@]}" --log "$OUT/$name.log" -- "${server_pin[@]}" "$@" \
    > "$OUT/$name-start.json"
  pid=$(json_field "$OUT/$name-start.json" pid)
  pids+=("$pid")
}

# bench NAME WORKLOAD OUTFILE ARGS... : one run, JSON report into OUTFILE.
run_bench() {
  local endpoint=$1 workload=$2 out=$3
  shift 3
  log "$(basename "$out" .json)"
  AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret \
    "${prio[@]}" "${client_pin[@]}" "$bench" run --endpoint "$endpoint" --table bench --workload "$workload" --connections "$CONNS" \
    --keyspace "$KEYSPACE" --item-size "$ITEM_SIZE" --warmup "$WARMUP" --json --quiet "$@" > "$out"
}

peak() { json_field "$1" throughput_rps; }

# make_identity ENDPOINT POLICY_FILE TABLE... : creates the IAM user bench in the Rampart at
# ENDPOINT (as the root), allowed on TABLE..., and sets $key_id and $secret to its new key.
make_identity() {
  local endpoint=$1 policy=$2 creds
  shift 2
  local tables=()
  for t in "$@"; do tables+=(--table "$t"); done
  local fgac=()
  [ -n "${LEADING_KEYS:-}" ] && fgac=(--leading-keys "$LEADING_KEYS")
  creds=$(.venv/bin/python bench/iam_identity.py --endpoint "$endpoint" --policy-out "$policy" \
    "${fgac[@]}" "${tables[@]}")
  key_id=${creds%%$'\n'*}
  secret=${creds#*$'\n'}
}

# --- 3. each server ------------------------------------------------------------------------
port=$PORT_BASE
for server in $SERVERS; do
  port=$((port + 1))
  endpoint=http://127.0.0.1:$port
  data=$OUT/$server-data
  case $server in
    ceiling)
      start ceiling "$endpoint/health" 0 "$bench" ceiling --listen "127.0.0.1:$port" --item-size "$ITEM_SIZE" "${ceiling_threads[@]}" ;;
    rampart)
      rm -rf "$data"
      RAMPART_ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RAMPART_ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
        RAMPART_ACCOUNT_ID=111122223333 RAMPART_ROOT_KEY=$(head -c 32 /dev/urandom | base64) RAMPART_LOG=warn \
        start rampart "$endpoint/health" 0 "$rampart" serve --data-dir "$data" --listen "127.0.0.1:$port" --region us-east-1 "${rampart_threads[@]}" ;;
    dynalite)
      start dynalite "$endpoint/" 1 node "$root/bench/dynalite-server.js" "$port" ;;
    moto)
      start moto "$endpoint/" 1 "$root/bench/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
  esac
  sleep 2
  echo "{\"server\":\"$server\",\"pid\":$pid,\"idle_rss_kib\":$(rss_kib "$pid")}" > "$OUT/$server-idle.json"
  key_id=$AWS_ACCESS_KEY_ID
  secret=$AWS_SECRET_ACCESS_KEY
  # After the idle memory, so the server is as untouched as the peers when it is measured.
  if [ "$server" = rampart ] && [ "$IDENTITY" = user ]; then
    make_identity "$endpoint" "$OUT/rampart-identity-policy.json" bench
  fi
  prep=(--prepare)
  [ "$server" = ceiling ] && prep=()
  run_bench "$endpoint" get-item "$OUT/$server-get-item.json" "${prep[@]}" --duration "$DURATION" --watch-pid "$pid"
  run_bench "$endpoint" put-item "$OUT/$server-put-item.json" --duration "$DURATION" --watch-pid "$pid"
  run_bench "$endpoint" query "$OUT/$server-query.json" --duration "$DURATION" --watch-pid "$pid"
  run_bench "$endpoint" ycsb-a "$OUT/$server-ycsb-a.json" --duration "$DURATION" --watch-pid "$pid"
  # Durable writes scale with concurrency (group commit): PutItem again with 4× the connections.
  CONNS=$((CONNS * 4)) run_bench "$endpoint" put-item "$OUT/$server-put-item-wide.json" --duration "$DURATION" --watch-pid "$pid"
  for w in get-item put-item; do
    half=$(python3 -c 'import sys; print(max(1.0, float(sys.argv[1]) / 2))' "$(peak "$OUT/$server-$w.json")")
    run_bench "$endpoint" "$w" "$OUT/$server-$w-half.json" --rate "$half" --duration "$DURATION" --watch-pid "$pid"
  done
  echo "{\"server\":\"$server\",\"pid\":$pid,\"rss_after_kib\":$(rss_kib "$pid"),\"peak_rss_kib\":$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")}" > "$OUT/$server-end.json"
  stop_pid "$pid"
done

# --- 4. Rampart: cold start and scaling ----------------------------------------------------
if needs rampart; then
  port=$((port + 1))
  endpoint=http://127.0.0.1:$port
  data=$OUT/rampart-scale-data
  rm -rf "$data"
  export RAMPART_ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RAMPART_ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
    RAMPART_ACCOUNT_ID=111122223333 RAMPART_ROOT_KEY=$(head -c 32 /dev/urandom | base64) RAMPART_LOG=warn
  serve=("$rampart" serve --data-dir "$data" --listen "127.0.0.1:$port" --region us-east-1 "${rampart_threads[@]}")
  scale_tables=()
  for n in $SCALES; do scale_tables+=("scale-$n"); done
  key_id=$AWS_ACCESS_KEY_ID
  secret=$AWS_SECRET_ACCESS_KEY
  # Cold start into an empty data directory (bootstraps the account), then restarts. With
  # IDENTITY=user the first server, once timed, also creates the IAM user: the restarts load it,
  # and the scaling server below signs with the key the data directory kept.
  for i in 1 2 3 4 5; do
    start "rampart-cold-$i" "$endpoint/health" 0 "${serve[@]}"
    if [ "$i" = 1 ] && [ "$IDENTITY" = user ]; then
      make_identity "$endpoint" "$OUT/rampart-scale-identity-policy.json" "${scale_tables[@]}"
    fi
    stop_pid "$pid"
  done
  start rampart-scale "$endpoint/health" 0 "${serve[@]}"
  for n in $SCALES; do
    log "scaling: $n items"
    AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret \
      "${prio[@]}" "${client_pin[@]}" "$bench" run --endpoint "$endpoint" --table "scale-$n" --keyspace "$n" --item-size "$ITEM_SIZE" \
      --connections "$CONNS" --prepare-only --json --quiet > "$OUT/scale-$n-prepare.json"
    for w in get-item put-item ycsb-a; do
      AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret \
        "${prio[@]}" "${client_pin[@]}" "$bench" run --endpoint "$endpoint" --table "scale-$n" --keyspace "$n" --item-size "$ITEM_SIZE" \
        --workload "$w" --connections "$CONNS" --warmup "$WARMUP" --duration "$DURATION" \
        --watch-pid "$pid" --json --quiet > "$OUT/scale-$n-$w.json"
    done
    du -sk "$data" | awk -v n="$n" '{print "{\"items\":" n ",\"data_dir_kib\":" $1 "}"}' > "$OUT/scale-$n-disk.json"
  done
  echo "{\"rss_kib\":$(rss_kib "$pid"),\"peak_rss_kib\":$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")}" > "$OUT/rampart-scale-end.json"
  stop_pid "$pid"
  # Cold start again, now with every scaling table in the data directory.
  for i in 1 2 3; do
    start "rampart-warmdata-$i" "$endpoint/health" 0 "${serve[@]}"
    stop_pid "$pid"
  done
fi

log "measuring the CPUs' steadiness again"
steadiness end >> "$OUT/machine.txt"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
# A policy that misses an action shows up as AccessDeniedException in a report's errors.
python3 - "$OUT" <<'PY'
import json, pathlib, sys
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    try:
        errors = json.loads(p.read_text()).get("errors") or {}
    except (json.JSONDecodeError, AttributeError):
        continue
    if any("AccessDenied" in k for k in errors):
        print(f"== WARNING: {p.name}: requests refused: {errors}", file=sys.stderr)
PY
python3 bench/summarize.py "$OUT" > "$OUT/summary.md"
if [ "${#server_pin[@]}" -gt 0 ]; then
  sed -i "/^### Latency at half of peak/a Pinned run (PIN=1): each server on CPU $server_cpu alone, rampart-bench on CPU $client_cpu; the rate is half of the server's pinned (one-core) closed-loop peak above." "$OUT/summary.md"
fi
log "results in $OUT (summary.md)"
cat "$OUT/summary.md"
