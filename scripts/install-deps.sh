#!/usr/bin/env bash
# Installs what building, running and testing need, on Debian 12, and nothing when all of it is
# already there (a dpkg query per package, well under a second). Safe to run again and again.
#
#   scripts/install-deps.sh             what `make run`, `make test` and `make bench` need
#   scripts/install-deps.sh --package   that, plus the arm64 cross toolchain, arm64 libraries
#                                       and qemu that `make package` / `make package-test` need
set -euo pipefail

packages=(
  g++ cmake ninja-build make pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang llvm  # `make fuzz-smoke` (in `make test`): libFuzzer, and llvm-symbolizer for its reports
  wrk nginx-light curl procps openssl gnuplot-nox  # `make bench`: load, yardstick, chart
  python3 binutils time
  lld  # links crud-api with its cold-start code grouped (cmake/static_runtime.cmake, decision 0023)
  chromium  # the browser test of /docs (tests/browser), driven through puppeteer-core
)

# The arm64 Lambda artifact: Debian's cross compiler and the :arm64 (multiarch) builds of the
# libraries crud-api links statically (Boost's headers and CMake files come with
# libboost1.81-dev:arm64), and a static qemu-user that runs the result in `make package-test`.
cross=0
case "${1:-}" in
  --package) cross=1 ;;
  "") ;;
  *) echo "usage: $0 [--package]" >&2; exit 2 ;;
esac
if ((cross)); then
  packages+=(
    g++-aarch64-linux-gnu qemu-user-static
    libboost1.81-dev:arm64 libboost-json1.81-dev:arm64 libboost-url1.81-dev:arm64
    libssl-dev:arm64 libsqlite3-dev:arm64
  )
fi
sudo=""
[[ $(id -u) == 0 ]] || sudo="sudo"
if ((cross)) && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "install-deps: enabling the arm64 architecture for multiarch packages" >&2
  $sudo dpkg --add-architecture arm64
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$p")
done

# Node.js and npm count as present when their commands are, whatever package brought them
# (Debian's, or a vendor's build that bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The deployment tests (tests/deploy/*_test.py) run AWS's own tools on python3: the SAM
# translator, cfn-lint, openapi-spec-validator, PyYAML and moto. There is no pip registry to fetch
# them from; they come with the machine image, so a missing one is reported, not installed.
if ! python3 - <<'PY'
import importlib.util, sys
wanted = {"samtranslator": "aws-sam-translator", "cfnlint": "cfn-lint",
          "openapi_spec_validator": "openapi-spec-validator", "yaml": "PyYAML", "moto": "moto"}
missing = [f"{module} ({dist})" for module, dist in wanted.items() if importlib.util.find_spec(module) is None]
if missing:
    print(f"install-deps: python3 ({sys.executable}) cannot import: {', '.join(missing)}. "
          "They come with the machine image (there is no pip registry here); use the image's "
          "python3, first on PATH, for the deploy tests.", file=sys.stderr)
    sys.exit(1)
PY
then
  exit 1
fi

# npm packages, pinned by package-lock.json: swagger-ui-dist, which the build embeds for /docs (so
# configuring needs it), dynalite for the DynamoDB tests, puppeteer-core for the browser test.
if [[ -f package-lock.json ]]; then
  if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
fi
