#!/usr/bin/env bash
# The benchmark behind `make bench`: wrk against `crud-api serve` (GET /items/{id}, then
# POST /items) and, in the same run and on the same machine, against a static nginx answering
# a fixed item envelope. Prints requests/s and p99 for each, and ours as a ratio of nginx's.
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
cleanup() {
  local pid
  for pid in $server_pid $nginx_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $server_pid $nginx_pid; do
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

# Runs wrk; prints "rps p99_us non2xx socket_errors".
run_wrk() {
  local label=$1 script=$2 url=$3 out="$tmp/wrk-$RANDOM.txt"
  wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$root/bench/$script" "$url" \
    >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed for $label"; }
  [[ ${BENCH_VERBOSE:-0} == 1 ]] && sed "s/^/  [$label] /" "$out" >&2
  local line
  line=$(grep '^BENCH_RESULT ' "$out") || { cat "$out" >&2; die "no result from wrk for $label"; }
  local rps p99 non2xx errors
  rps=$(sed 's/.* rps=\([^ ]*\).*/\1/' <<<"$line")
  p99=$(sed 's/.* p99_us=\([^ ]*\).*/\1/' <<<"$line")
  non2xx=$(sed 's/.* non2xx=\([^ ]*\).*/\1/' <<<"$line")
  errors=$(sed 's/.* socket_errors=\([^ ]*\).*/\1/' <<<"$line")
  echo "$rps $p99 $non2xx $errors"
}

# --- crud-api serve on a fresh database, rate limiting off -------------------------------
"$binary" serve --host 127.0.0.1 --port 0 --db "$tmp/items.db" --rate-limit 0 >/dev/null &
server_pid=$!
server_port=""
for _ in $(seq 300); do
  kill -0 "$server_pid" 2>/dev/null || die "crud-api serve exited at start-up"
  server_port=$(listening_port "$server_pid" || true)
  [[ -n $server_port ]] && break
  sleep 0.1
done
[[ -n $server_port ]] || die "crud-api serve did not start listening"
wait_ready "$server_pid" "http://127.0.0.1:$server_port/health" || die "crud-api is not answering"
api="http://127.0.0.1:$server_port"

created=$(curl -fsS -X POST "$api/items" -H 'Content-Type: application/json' \
  -d '{"name":"Sample Item","description":"This is a sample item for testing"}') ||
  die "could not create the benchmark item"
item_id=$(sed -n 's/.*"id":"\(item_[0-9A-Z]*\)".*/\1/p' <<<"$created")
[[ -n $item_id ]] || die "no id in $created"
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
result=$(run_wrk nginx get.lua "http://127.0.0.1:$nginx_port/")
read -r nginx_rps nginx_p99 nginx_non2xx nginx_err <<<"$result"
result=$(run_wrk "GET" get.lua "$api/items/$item_id")
read -r get_rps get_p99 get_non2xx get_err <<<"$result"
result=$(run_wrk "POST" post_item.lua "$api/items")
read -r post_rps post_p99 post_non2xx post_err <<<"$result"

row() {  # label rps p99_us non2xx errors
  local ratio
  ratio=$(awk -v a="$2" -v b="$nginx_rps" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
  printf "%-24s %12.0f %10.2f ms %9s" "$1" "$2" "$(awk -v u="$3" 'BEGIN { print u / 1000 }')" "$ratio"
  (($4 + $5 > 0)) && printf "   (non-2xx %s, socket errors %s)" "$4" "$5"
  printf "\n"
}
printf "%-24s %12s %13s %9s\n" "target" "requests/s" "p99" "vs nginx"
row "nginx static JSON" "$nginx_rps" "$nginx_p99" "$nginx_non2xx" "$nginx_err"
row "GET /items/{id}" "$get_rps" "$get_p99" "$get_non2xx" "$get_err"
row "POST /items" "$post_rps" "$post_p99" "$post_non2xx" "$post_err"
