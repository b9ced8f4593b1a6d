#!/usr/bin/env bash
# The benchmark behind `make bench`: wrk against `crud-api serve` (GET /items/{id}, then
# POST /items) on SQLite and then on DynamoDB (dynalite, from node_modules), and, in the same
# run and on the same machine, against a static nginx answering a fixed item envelope. Prints
# requests/s and p99 for each, and ours as a ratio of nginx's. On dynalite, dynalite (one
# Node.js process) is the bottleneck: those rows measure it as much as us.
#
#   scripts/bench.sh [BUILD_DIR]      (default: build)
#
# Environment: BENCH_DURATION (10s), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# BENCH_VERBOSE=1 to also print wrk's own reports. Everything binds 127.0.0.1 and is stopped
# on exit, however the script ends.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build == /* ]] || build="$PWD/$build"
binary="$build/crud-api"
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
nginx_bin=${NGINX:-/usr/sbin/nginx}

die() { echo "bench: $*" >&2; exit 1; }
[[ -x $binary ]] || die "no $binary; build it first (make build)"
command -v wrk >/dev/null || die "wrk is missing (scripts/install-deps.sh installs it)"
[[ -x $nginx_bin ]] || die "$nginx_bin is missing (scripts/install-deps.sh installs nginx-light)"
command -v curl >/dev/null || die "curl is missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crud-bench.XXXXXX")
server_pid=""
nginx_pid=""
dynamo_pid=""
dynalite_pid=""
cleanup() {
  local pid
  for pid in $server_pid $nginx_pid $dynamo_pid $dynalite_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $server_pid $nginx_pid $dynamo_pid $dynalite_pid; do
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

# Runs wrk against the server with PID; prints "rps p99_us non2xx socket_errors cpu_us_per_req".
# The CPU the server spends per request is steadier than requests/s on a shared machine, where
# wrk and the server also compete for the same cores.
run_wrk() {
  local label=$1 script=$2 url=$3 pid=$4 out="$tmp/wrk-$RANDOM.txt"
  local before after
  before=$(cpu_ticks "$pid")
  wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$root/bench/$script" "$url" \
    >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed for $label"; }
  after=$(cpu_ticks "$pid")
  [[ ${BENCH_VERBOSE:-0} == 1 ]] && sed "s/^/  [$label] /" "$out" >&2
  local line
  line=$(grep '^BENCH_RESULT ' "$out") || { cat "$out" >&2; die "no result from wrk for $label"; }
  local rps p99 non2xx errors requests
  rps=$(sed 's/.* rps=\([^ ]*\).*/\1/' <<<"$line")
  p99=$(sed 's/.* p99_us=\([^ ]*\).*/\1/' <<<"$line")
  non2xx=$(sed 's/.* non2xx=\([^ ]*\).*/\1/' <<<"$line")
  errors=$(sed 's/.* socket_errors=\([^ ]*\).*/\1/' <<<"$line")
  requests=$(sed 's/.* requests=\([^ ]*\).*/\1/' <<<"$line")
  local cpu
  cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
  echo "$rps $p99 $non2xx $errors $cpu"
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

# --- crud-api serve on a fresh database, rate limiting off -------------------------------
"$binary" serve --host 127.0.0.1 --port 0 --db "$tmp/items.db" --rate-limit 0 >/dev/null &
server_pid=$!
server_port=$(serve_port "$server_pid")
api="http://127.0.0.1:$server_port"
item_id=$(create_item "$api")
# nginx serves exactly the body our GET returns, so both move the same bytes.
item_body=$(curl -fsS "$api/items/$item_id") || die "GET /items/$item_id failed"
[[ $item_body != *"'"* ]] || die "the item body has a quote nginx's config cannot hold"

# --- the static nginx yardstick ---------------------------------------------------------
user_line=""
[[ $(id -u) == 0 ]] && user_line="user root;"
for attempt in 1 2 3 4 5; do
  nginx_port=$(free_port) || die "no free port for nginx"
  sed -e "s|@PREFIX@|$tmp|g" -e "s|@PORT@|$nginx_port|g" -e "s|@USER@|$user_line|" \
    "$root/bench/nginx.conf.template" | awk -v body="$item_body" '{ gsub(/@BODY@/, body); print }' \
    >"$tmp/nginx.conf"
  "$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" 2>>"$tmp/nginx-stderr.log" &
  nginx_pid=$!
  if wait_ready "$nginx_pid" "http://127.0.0.1:$nginx_port/"; then
    break
  fi
  kill -TERM "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=""
  ((attempt < 5)) || { cat "$tmp/nginx-stderr.log" "$tmp/error.log" >&2 2>/dev/null; die "nginx did not start"; }
done

# --- the runs -----------------------------------------------------------------------------
echo "bench: wrk -t$threads -c$connections -d$duration on $(nproc) CPUs, $(date -u +%FT%TZ)" >&2
result=$(run_wrk nginx get.lua "http://127.0.0.1:$nginx_port/" "$nginx_pid")
read -r nginx_rps nginx_p99 nginx_non2xx nginx_err nginx_cpu <<<"$result"
result=$(run_wrk "GET" get.lua "$api/items/$item_id" "$server_pid")
read -r get_rps get_p99 get_non2xx get_err get_cpu <<<"$result"
result=$(run_wrk "POST" post_item.lua "$api/items" "$server_pid")
read -r post_rps post_p99 post_non2xx post_err post_cpu <<<"$result"
kill -TERM "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

# --- crud-api serve on dynalite -------------------------------------------------------------
dynalite_cli="$root/node_modules/dynalite/cli.js"
have_dynalite=0
if [[ -f $dynalite_cli ]] && command -v node >/dev/null; then
  have_dynalite=1
  dynalite_port=$(free_port) || die "no free port for dynalite"
  node "$dynalite_cli" --host 127.0.0.1 --port "$dynalite_port" --createTableMs 20 >/dev/null 2>&1 &
  dynalite_pid=$!
  ddb_env=(env AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1)
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
  dynamo_port=$(serve_port "$dynamo_pid")
  dynamo_api="http://127.0.0.1:$dynamo_port"
  dynamo_item=$(create_item "$dynamo_api")
  result=$(run_wrk "GET dynalite" get.lua "$dynamo_api/items/$dynamo_item" "$dynamo_pid")
  read -r dget_rps dget_p99 dget_non2xx dget_err dget_cpu <<<"$result"
  result=$(run_wrk "POST dynalite" post_item.lua "$dynamo_api/items" "$dynamo_pid")
  read -r dpost_rps dpost_p99 dpost_non2xx dpost_err dpost_cpu <<<"$result"
else
  echo "bench: node_modules/dynalite is missing (npm ci): skipping the DynamoDB rows" >&2
fi

row() {  # label rps p99_us non2xx errors cpu_us_per_req
  local ratio cpu_ratio
  ratio=$(awk -v a="$2" -v b="$nginx_rps" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
  cpu_ratio=$(awk -v a="$6" -v b="$nginx_cpu" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')
  printf "%-24s %12.0f %10.2f ms %9s %10.1f us %8s" "$1" "$2" \
    "$(awk -v u="$3" 'BEGIN { print u / 1000 }')" "$ratio" "$6" "$cpu_ratio"
  (($4 + $5 > 0)) && printf "   (non-2xx %s, socket errors %s)" "$4" "$5"
  printf "\n"
}
# "server CPU/req" is the CPU time the server (all its threads; nginx with its workers) used
# during the run, per request answered.
printf "%-24s %12s %13s %9s %13s %8s\n" "target" "requests/s" "p99" "vs nginx" "server CPU/req" "vs nginx"
row "nginx static JSON" "$nginx_rps" "$nginx_p99" "$nginx_non2xx" "$nginx_err" "$nginx_cpu"
row "GET  /items/{id} sqlite" "$get_rps" "$get_p99" "$get_non2xx" "$get_err" "$get_cpu"
row "POST /items sqlite" "$post_rps" "$post_p99" "$post_non2xx" "$post_err" "$post_cpu"
if ((have_dynalite)); then
  row "GET  on dynalite" "$dget_rps" "$dget_p99" "$dget_non2xx" "$dget_err" "$dget_cpu"
  row "POST on dynalite" "$dpost_rps" "$dpost_p99" "$dpost_non2xx" "$dpost_err" "$dpost_cpu"
fi

# One-shot `invoke` against the same GetItem in Node.js 20 with the AWS SDK v3, on dynalite.
if ((have_dynalite)); then
  echo
  python3 "$root/scripts/bench_invoke.py" "$build"
fi

# The packaged Lambda bootstrap: zip sizes and cold start against a Runtime API stand-in.
echo
"$root/scripts/bench-coldstart.sh" "$build"
