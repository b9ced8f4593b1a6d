#!/usr/bin/env bash
# `make package` and `make package-test`: the Lambda deployment zips for both architectures.
#
#   scripts/package.sh [--test] [BUILD_DIR [ARM64_BUILD_DIR]]    (defaults: build, build-arm64)
#
# x86_64: the Release build in BUILD_DIR is the artifact (CRUD_STATIC_RUNTIME, see
#   cmake/static_runtime.cmake); its lambda-zip target, part of the default build, zips
#   BUILD_DIR/crud-api as BUILD_DIR/lambda/x86_64/crud-api.zip.
# arm64: cross-compiled (crud-api only, no tests) in ARM64_BUILD_DIR with
#   cmake/aarch64-linux-gnu.toolchain.cmake, its zip copied to BUILD_DIR/lambda/arm64/.
# --test: then checks both zips with tests/package/package_check.py: contents, links and glibc
#   ceiling; `invoke` and the Lambda loop in a glibc-only chroot, arm64 under qemu-user.
#
# Environment: JOBS (nproc). Needs `scripts/install-deps.sh --package` (make does that).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_tests=0
if [[ ${1:-} == --test ]]; then
  run_tests=1
  shift
fi
build=${1:-build}
arm64_build=${2:-build-arm64}
jobs=${JOBS:-$(nproc)}

die() { echo "package: $*" >&2; exit 1; }
[[ -f $build/build.ninja ]] || die "$build is not configured; run make build first"
grep -q '^CRUD_STATIC_RUNTIME:BOOL=ON' "$build/CMakeCache.txt" ||
  die "$build is not a static-runtime build (configure it with -DCMAKE_BUILD_TYPE=Release)"
command -v aarch64-linux-gnu-g++ >/dev/null ||
  die "no arm64 cross compiler; run scripts/install-deps.sh --package"

x86_zip=$build/lambda/x86_64/crud-api.zip
arm64_zip=$build/lambda/arm64/crud-api.zip

cmake --build "$build" --target lambda-zip -j "$jobs"

if [[ ! -f $arm64_build/build.ninja ]]; then
  cmake -S . -B "$arm64_build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCRUD_BUILD_TESTS=OFF \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.toolchain.cmake"
fi
cmake --build "$arm64_build" --target lambda-zip -j "$jobs"
mkdir -p "$(dirname "$arm64_zip")"
cp -p "$arm64_build/lambda/arm64/crud-api.zip" "$arm64_zip"

for zip in "$x86_zip" "$arm64_zip"; do
  printf 'package: %-36s %9d bytes (bootstrap %d bytes)\n' "$zip" "$(stat -c %s "$zip")" \
    "$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).getinfo("bootstrap").file_size)' "$zip")"
done
((run_tests)) || exit 0

# --- package-test ---------------------------------------------------------------------------
qemu=$(command -v qemu-aarch64-static) || die "no qemu-aarch64-static; run scripts/install-deps.sh --package"
check=(python3 tests/package/package_check.py)
failed=()
skipped=()
step() {  # name, then the command
  local name=$1 code=0
  shift
  echo "== $name"
  "$@" || code=$?
  case $code in
    0) ;;
    77) skipped+=("$name") ;;
    *) failed+=("$name") ;;
  esac
}
step "x86_64 artifact" "${check[@]}" artifact --zip "$x86_zip" --arch x86_64 --binary "$build/crud-api"
step "x86_64 invoke in chroot" "${check[@]}" chroot-invoke --zip "$x86_zip" --arch x86_64
step "x86_64 lambda loop in chroot" "${check[@]}" chroot-lambda --zip "$x86_zip" --arch x86_64
step "arm64 artifact" "${check[@]}" artifact --zip "$arm64_zip" --arch arm64 --binary "$arm64_build/crud-api"
step "arm64 invoke under qemu" "${check[@]}" chroot-invoke --zip "$arm64_zip" --arch arm64 --emulator "$qemu"
step "arm64 lambda loop under qemu" "${check[@]}" chroot-lambda --zip "$arm64_zip" --arch arm64 --emulator "$qemu"

((${#skipped[@]} == 0)) || echo "package-test: SKIPPED (not root): ${skipped[*]}"
((${#failed[@]} == 0)) || die "FAILED: ${failed[*]}"
echo "package-test: passed"
