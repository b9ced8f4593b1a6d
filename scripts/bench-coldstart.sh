#!/usr/bin/env bash
# Cold start of the packaged Lambda bootstrap, for `make bench` (scripts/bench.sh calls it last).
#
#   scripts/bench-coldstart.sh [BUILD_DIR]      (default: build)
#
# Prints the deployment zips' sizes (x86_64 always, arm64 when `make package` has made it),
# then unzips the x86_64 bootstrap and starts it BENCH_COLDSTART_RUNS times (default 30, at
# least 20) as Lambda would, against a Runtime API stand-in on 127.0.0.1 (a Python server in
# tests/package/package_check.py that timestamps requests with a monotonic clock), each time on
# a fresh SQLite file with one POST /items event. It reports medians (and p90) from right before
# the spawn to the runtime's first `GET /invocation/next` and to its first posted response
# (with the SQLite file on /dev/shm and on $TMPDIR), beside two floors measured in the same run the same way: spawning /bin/true until it exits,
# and `bootstrap --version` until it exits (loading and initialising our binary, no work).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build == /* ]] || build="$PWD/$build"
runs=${BENCH_COLDSTART_RUNS:-30}
((runs >= 20)) || { echo "bench-coldstart: BENCH_COLDSTART_RUNS must be at least 20" >&2; exit 2; }

zip="$build/lambda/x86_64/crud-api.zip"
[[ -f $zip ]] || { echo "bench-coldstart: no $zip; make build makes it (Release build)" >&2; exit 1; }

echo "Lambda deployment zips"
for arch in x86_64 arm64; do
  z="$build/lambda/$arch/crud-api.zip"
  if [[ -f $z ]]; then
    python3 - "$arch" "$z" <<'EOF'
import os, sys, zipfile
arch, path = sys.argv[1], sys.argv[2]
member = zipfile.ZipFile(path).getinfo("bootstrap")
print(f"  {arch:<8} {os.path.getsize(path) / 2**20:6.2f} MiB zipped, "
      f"bootstrap {member.file_size / 2**20:6.2f} MiB")
EOF
  else
    echo "  $arch    (not built; make package)"
  fi
done
echo
cd "$root"
# The SQLite file is created (and fsynced) before the first `next`: on tmpfs that is nearly
# free and the rows show the runtime's own start; on the temp directory's disk, what a sync
# costs there. Both, when /dev/shm is there.
db_dirs=(--db-dir "${TMPDIR:-/tmp}")
[[ -d /dev/shm && -w /dev/shm ]] && db_dirs=(--db-dir /dev/shm "${db_dirs[@]}")
python3 tests/package/package_check.py coldstart --zip "$zip" --arch x86_64 --runs "$runs" \
  "${db_dirs[@]}"
