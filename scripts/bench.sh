#!/usr/bin/env bash
# The benchmark behind `make bench`. Everything it compares is measured in the same run, on the
# same machine, so that the ratios hold even when the machine is shared and its load varies:
#
# - serve: wrk against `crud-api serve` (GET /items/{id}, durable POST /items) on SQLite and
#   against a static nginx answering the same item envelope. Twice: unpinned, and per core
#   (the server under test and nginx pinned to one CPU, wrk to another), because on 2 cores
#   serve uses both while nginx is held to the same share only when pinned. Then GET and POST
#   on DynamoDB (dynalite, from node_modules), where dynalite (one Node.js process) is the
#   bottleneck: those rows measure it as much as us, and their server CPU per request is ours.
# - cold start (scripts/bench_invoke.py): one-shot `invoke` on SQLite and on dynalite (against
#   the same GetItem in Node.js 20 with the AWS SDK v3), and `lambda` from exec to its first
#   /next and to its first response against a Runtime API stand-in, on both stores.
# - micro benchmarks (bench/micro, Google Benchmark) of the hot pure functions.
#
# Each wrk row is the median of BENCH_RUNS runs after one warm-up run, with the spread
# (min-max); the targets' runs are interleaved so that drift hits them alike. A run with any
# answer of 400 or more (wrk's count) or any socket error fails its row: the script prints
# every row, then exits 1 without writing the report. Server CPU per request is the server's
# utime+stime (all threads; nginx with its workers) over the run, per request answered.
#
# scripts/bench_report.py prints the tables and writes docs/benchmarks.md, its chart
# docs/images/benchmarks.png (gnuplot) and README's Performance table.
#
#   scripts/bench.sh [BUILD_DIR]      (default: build)
#
# Environment: BENCH_DURATION (6s per run), BENCH_WARMUP (2s), BENCH_RUNS (3),
# BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_WRITE_DOCS (1; 0 prints only),
# BENCH_VERBOSE=1 to also print wrk's own reports. Everything binds 127.0.0.1 and is stopped
# on exit, however the script ends.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build == /* ]] || build="$PWD/$build"
binary="$build/crud-api"
micro="$build/bench/micro/crud-micro-bench"
duration=${BENCH_DURATION:-6s}
warmup=${BENCH_WARMUP:-2s}
runs=${BENCH_RUNS:-3}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
nginx_bin=${NGINX:-/usr/sbin/nginx}

die() { echo "bench: $*" >&2; exit 1; }
[[ -x $binary ]] || die "no $binary; build it first (make build)"
[[ -x $micro ]] || die "no $micro; a Release build makes it (make build)"
((runs >= 3)) || die "BENCH_RUNS must be at least 3 (a median needs them)"
for tool in wrk curl taskset python3 gnuplot; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs it)"
done
[[ -x $nginx_bin ]] || die "$nginx_bin is missing (scripts/install-deps.sh installs nginx-light)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crud-bench.XXXXXX")
results="$tmp/results.jsonl"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The TCP port a process listens on, from /proc: `serve --port 0` picks a free one, and its
# stdout (one log line per request) goes to /dev/null rather than into a reader.
listening_port() {
  local pid=$1 inodes hex
  inodes=" $(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
    sed 's/socket:\[\([0-9]*\)\]/\1/' | tr '\n' ' ') "
  hex=$(awk -v inodes="$inodes" 'NR > 1 && $4 == "0A" && index(inodes, " " $10 " ") {
      split($2, a, ":"); print a[2]; exit }' "/proc/$pid/net/tcp" 2>/dev/null || true)
  [[ -n $hex ]] && echo $((16#$hex))
}

# Waits until `curl URL` answers; fails when PID dies first or after 30 s.
wait_ready() {
  local pid=$1 url=$2
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# A loopback port nothing listens on (a connect to it is refused).
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# CPU time (clock ticks) used so far by PID and its children (nginx's workers), threads
# included.
cpu_ticks() {
  local pid=$1 total=0 f
  for f in /proc/"$pid"/stat $(grep -l "^[0-9]* ([^)]*) . $pid " /proc/[0-9]*/stat 2>/dev/null); do
    [[ -r $f ]] || continue
    # Fields 14 and 15 (utime, stime), counted after the parenthesised command name.
    total=$((total + $(sed 's/^.*) //' "$f" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}

# One wrk run against the server with PID. Appends a JSON line to $results unless WARM-UP.
#   run_wrk KEY SCRIPT URL PID WRK_CPU(or -) DURATION warmup|measure
run_wrk() {
  local key=$1 script=$2 url=$3 pid=$4 cpu=$5 length=$6 mode=$7 out="$tmp/wrk-$RANDOM.txt"
  local pin=()
  [[ $cpu != - ]] && pin=(taskset -c "$cpu")
  local before after
  before=$(cpu_ticks "$pid")
  "${pin[@]}" wrk -t"$threads" -c"$connections" -d"$length" --latency -s "$root/bench/$script" \
    "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed for $key"; }
  after=$(cpu_ticks "$pid")
  [[ ${BENCH_VERBOSE:-0} == 1 ]] && sed "s/^/  [$key] /" "$out" >&2
  [[ $mode == measure ]] || return 0
  local line
  line=$(grep '^BENCH_RESULT ' "$out") || { cat "$out" >&2; die "no result from wrk for $key"; }
  printf '{"type": "wrk", "key": "%s", "cpu_ticks": %d, "clk_tck": %d, %s\n' "$key" \
    $((after - before)) "$(getconf CLK_TCK)" "${line#BENCH_RESULT \{}" >>"$results"
}

# Waits for the `crud-api serve` with PID to listen; prints its port.
serve_port() {
  local pid=$1 port=""
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || die "crud-api serve exited at start-up"
    port=$(listening_port "$pid" || true)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || die "crud-api serve did not start listening"
  wait_ready "$pid" "http://127.0.0.1:$port/health" || die "crud-api is not answering"
  echo "$port"
}

# Creates the item the GET runs read; prints its id.
create_item() {
  local created id
  created=$(curl -fsS -X POST "$1/items" -H 'Content-Type: application/json' \
    -d '{"name":"Sample Item","description":"This is a sample item for testing"}') ||
    die "could not create the benchmark item"
  id=$(sed -n 's/.*"id":"\(item_[0-9A-Z]*\)".*/\1/p' <<<"$created")
  [[ -n $id ]] || die "no id in $created"
  echo "$id"
}

# Starts `crud-api serve` on SQLite (rate limiting off), under the command prefix given
# (`taskset -c N` or nothing); sets started_pid and started_url.
start_serve() {
  local db=$1
  shift
  "$@" "$binary" serve --host 127.0.0.1 --port 0 --db "$db" --rate-limit 0 >/dev/null &
  started_pid=$!
  pids+=("$started_pid")
  started_url="http://127.0.0.1:$(serve_port "$started_pid")"
}

# Starts a static nginx answering BODY, in its own prefix DIR, under the command prefix given;
# sets started_pid and started_url.
start_nginx() {
  local dir=$1 body=$2 user_line="" port attempt
  shift 2
  mkdir -p "$dir"
  [[ $(id -u) == 0 ]] && user_line="user root;"
  for attempt in 1 2 3 4 5; do
    port=$(free_port) || die "no free port for nginx"
    sed -e "s|@PREFIX@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@USER@|$user_line|" \
      "$root/bench/nginx.conf.template" | awk -v body="$body" '{ gsub(/@BODY@/, body); print }' \
      >"$dir/nginx.conf"
    "$@" "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>>"$dir/stderr.log" &
    started_pid=$!
    if wait_ready "$started_pid" "http://127.0.0.1:$port/"; then
      pids+=("$started_pid")
      started_url="http://127.0.0.1:$port"
      return 0
    fi
    kill -TERM "$started_pid" 2>/dev/null || true
    wait "$started_pid" 2>/dev/null || true
    ((attempt < 5)) || { cat "$dir/stderr.log" "$dir/error.log" >&2 2>/dev/null; die "nginx did not start"; }
  done
}

# Runs every target of the list one warm-up run each, then BENCH_RUNS rounds, the targets in
# turn within a round. A target is "KEY SCRIPT URL PID WRK_CPU".
run_rounds() {
  local spec key script url pid cpu round
  for spec in "$@"; do
    read -r key script url pid cpu <<<"$spec"
    run_wrk "$key" "$script" "$url" "$pid" "$cpu" "$warmup" warmup
  done
  for round in $(seq "$runs"); do
    for spec in "$@"; do
      read -r key script url pid cpu <<<"$spec"
      run_wrk "$key" "$script" "$url" "$pid" "$cpu" "$duration" measure
    done
  done
}

meta() {  # KEY VALUE (a string)
  python3 -c 'import json, sys; print(json.dumps({"type": "meta", "key": sys.argv[1], "value": sys.argv[2]}))' \
    "$1" "$2" >>"$results"
}

meta date "$(date -u +%FT%TZ)"
meta nproc "$(nproc)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
meta kernel "$(uname -sr)"
meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
# The kernel's CPU counters (/proc/stat), so the report can say how much CPU time the hypervisor
# took for other guests during the run (steal), which the load average, counting only this
# machine's own work, does not show.
meta cpu_stat_start "$(head -n1 /proc/stat)"
meta wrk "wrk -t$threads -c$connections, $runs runs of $duration after a $warmup warm-up"
meta commit "$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"

# The two CPUs of the per-core rows: the server under test and nginx on the first, wrk on the
# second.
read -r cpu_server cpu_load < <(python3 -c \
  'import os; c = sorted(os.sched_getaffinity(0)); print(c[0], c[1] if len(c) > 1 else -1)')
pinned=1
if ((cpu_load < 0)); then
  pinned=0
  echo "bench: one CPU only: no per-core rows" >&2
fi
meta cpus_pinned "server and nginx on CPU $cpu_server, wrk on CPU $cpu_load"

echo "bench: serve on SQLite against nginx ($runs runs of $duration each, unpinned and per core)" >&2
start_serve "$tmp/items.db"
api=$started_url
api_pid=$started_pid
item_id=$(create_item "$api")
# nginx serves exactly the body our GET returns, so both move the same bytes.
item_body=$(curl -fsS "$api/items/$item_id") || die "GET /items/$item_id failed"
[[ $item_body != *"'"* ]] || die "the item body has a quote nginx's config cannot hold"
start_nginx "$tmp/nginx" "$item_body"
nginx_url=$started_url
nginx_pid=$started_pid
targets=("nginx get.lua $nginx_url/ $nginx_pid -"
  "get get.lua $api/items/$item_id $api_pid -"
  "post post_item.lua $api/items $api_pid -")
if ((pinned)); then
  start_serve "$tmp/items-pinned.db" taskset -c "$cpu_server"
  pinned_api=$started_url
  pinned_pid=$started_pid
  pinned_item=$(create_item "$pinned_api")
  start_nginx "$tmp/nginx-pinned" "$item_body" taskset -c "$cpu_server"
  targets+=("nginx_pinned get.lua $started_url/ $started_pid $cpu_load"
    "get_pinned get.lua $pinned_api/items/$pinned_item $pinned_pid $cpu_load"
    "post_pinned post_item.lua $pinned_api/items $pinned_pid $cpu_load")
fi
run_rounds "${targets[@]}"
for pid in "${pids[@]}"; do
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
pids=()

# --- serve on dynalite ----------------------------------------------------------------------
dynalite_cli="$root/node_modules/dynalite/cli.js"
[[ -f $dynalite_cli ]] && command -v node >/dev/null ||
  die "node_modules/dynalite is missing (npm ci): the DynamoDB rows need it"
echo "bench: serve on dynalite" >&2
dynalite_port=$(free_port) || die "no free port for dynalite"
node "$dynalite_cli" --host 127.0.0.1 --port "$dynalite_port" --createTableMs 20 >/dev/null 2>&1 &
dynalite_pid=$!
pids+=("$dynalite_pid")
ddb_env=(env AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
  AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null)
ddb_flags=(--store dynamodb --endpoint "http://127.0.0.1:$dynalite_port" --table bench_items)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$dynalite_port") 2>/dev/null && break
  kill -0 "$dynalite_pid" 2>/dev/null || die "dynalite exited at start-up"
  sleep 0.1
done
"${ddb_env[@]}" "$binary" init "${ddb_flags[@]}" >/dev/null 2>"$tmp/init.log" ||
  { cat "$tmp/init.log" >&2; die "crud-api init on dynalite failed"; }
"${ddb_env[@]}" "$binary" serve --host 127.0.0.1 --port 0 "${ddb_flags[@]}" --rate-limit 0 \
  >/dev/null &
dynamo_pid=$!
pids+=("$dynamo_pid")
dynamo_api="http://127.0.0.1:$(serve_port "$dynamo_pid")"
dynamo_item=$(create_item "$dynamo_api")
run_rounds "dynamo_get get.lua $dynamo_api/items/$dynamo_item $dynamo_pid -" \
  "dynamo_post post_item.lua $dynamo_api/items $dynamo_pid -"
for pid in "${pids[@]}"; do
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
pids=()

# --- cold starts and micro benchmarks --------------------------------------------------------
echo "bench: cold starts" >&2
python3 "$root/scripts/bench_invoke.py" "$build" --results "$results"
echo "bench: micro benchmarks" >&2
"$micro" --benchmark_min_time=0.2 --benchmark_repetitions="$runs" \
  --benchmark_format=json --benchmark_out="$tmp/micro.json" --benchmark_out_format=json \
  >/dev/null 2>"$tmp/micro.log" || { cat "$tmp/micro.log" >&2; die "the micro benchmarks failed"; }
python3 - "$tmp/micro.json" >>"$results" <<'EOF'
import json, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") == "iteration" and not b.get("error_occurred"):
        unit = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        print(json.dumps({"type": "micro", "key": b["run_name"], "ns": b["cpu_time"] * unit}))
EOF
meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
meta cpu_stat_end "$(head -n1 /proc/stat)"

# --- the report ----------------------------------------------------------------------------
report=(python3 "$root/scripts/bench_report.py" "$results")
if [[ ${BENCH_WRITE_DOCS:-1} == 1 ]]; then
  report+=(--markdown "$root/docs/benchmarks.md" --chart "$root/docs/images/benchmarks.png"
    --readme "$root/README.md")
fi
status=0
"${report[@]}" || status=$?
cp "$results" "$build/bench-results.jsonl"

# Printed only: export and import in items/s on SQLite and dynalite, against baselines in the
# same run.
echo
python3 "$root/scripts/bench_transfer.py" "$build" || status=$?

# Printed only: the deployment zips' sizes and the packaged bootstrap's cold start on fresh
# SQLite files.
echo
BENCH_COLDSTART_RUNS=${BENCH_COLDSTART_RUNS:-20} "$root/scripts/bench-coldstart.sh" "$build"
exit "$status"
