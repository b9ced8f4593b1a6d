#!/usr/bin/env bash
# Runs every fuzzer of a CRUD_FUZZ build for SECONDS each, FUZZ_JOBS at a time (default 2),
# then replays the inputs kept in fuzz/regressions/<target>/. Fails when any run finds a crash,
# a leak, a sanitizer report or an input slower than FUZZ_INPUT_TIMEOUT seconds (default 10).
# What a failing run found is kept as BUILD/fuzz/artifacts/<target>/crash-*, leak-*, timeout-*.
#
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]      (`make fuzz`, `make fuzz-smoke`)
#
# Each target's last line gives its executions (libFuzzer's stat::number_of_executed_units)
# and coverage (cov: edges, ft: features) at the end of the run.
set -euo pipefail
build=${1:?build dir}
seconds=${2:?seconds per target}
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
jobs=${FUZZ_JOBS:-2}
input_timeout=${FUZZ_INPUT_TIMEOUT:-10}
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(apigw_event item_input cursor jwt request_target dynamodb_response shared_config
           runtime_headers)
fi
dir="$build/fuzz"
logs="$dir/logs"
mkdir -p "$logs"
"$src/fuzz/make_seeds.sh" "$src" "$dir" >/dev/null

# UBSan is built not to recover (the top-level CMakeLists), so any report ends the run.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local t=$1 bin="$dir/${1}_fuzzer" rc=0
  mkdir -p "$dir/artifacts/$t" "$dir/corpus/$t"
  # -rss_limit_mb: ASan's shadow memory counts, so the default 2 GB is too tight to mean much.
  "$bin" -max_total_time="$seconds" -timeout="$input_timeout" -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t/" \
    "$dir/corpus/$t" "$dir/seeds/$t" >"$logs/$t.log" 2>&1 || rc=$?
  # Inputs that once found a bug: given as files, libFuzzer runs each once and exits.
  local kept=("$src/fuzz/regressions/$t"/*)
  if ((rc == 0)) && [[ -e ${kept[0]} ]]; then
    "$bin" -timeout="$input_timeout" -rss_limit_mb=4096 "${kept[@]}" >>"$logs/$t.log" 2>&1 || rc=$?
  fi
  echo "$rc" >"$logs/$t.rc"
}

rm -f "$logs"/*.rc
running=0
for t in "${targets[@]}"; do
  [[ -x "$dir/${t}_fuzzer" ]] || { echo "fuzz: $dir/${t}_fuzzer is not built" >&2; exit 2; }
  run_one "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
for t in "${targets[@]}"; do
  rc=$(cat "$logs/$t.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | head -n1 || true)
  cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$logs/$t.log" |
    sed -E 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/' | head -n1 || true)
  kept=0
  [[ -d $src/fuzz/regressions/$t ]] && kept=$(find "$src/fuzz/regressions/$t" -type f | wc -l)
  if [[ $rc == 0 ]]; then
    printf 'fuzz: %-18s ok    %9s executions in %ss, %s, %s regression inputs replayed\n' \
      "$t" "${execs:-?}" "$seconds" "${cov:-cov: ?}" "$kept"
  else
    failed=1
    printf 'fuzz: %-18s FAILED (exit %s) after %s executions; see %s\n' "$t" "$rc" "${execs:-?}" \
      "$logs/$t.log" >&2
    grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written|==[0-9]+== ?ERROR' "$logs/$t.log" \
      | head -n 8 >&2 || true
  fi
done
exit "$failed"
