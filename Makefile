# The project's front door. `make run` and `make test` install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all deps build run test test-release test-asan bench cold-order format tidy clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Only what it serves: the crud-api target, not the tests (README "Quick start" has the timing).
run: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) --target crud-api -j $(JOBS)
	$(BUILD)/crud-api serve

test: build
	$(MAKE) --no-print-directory test-release
	$(MAKE) --no-print-directory mutate-smoke
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory fuzz-smoke

test-release:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

$(ASAN_BUILD)/build.ninja:
	# -O1 with line tables only: sanitizer reports keep file:line, and the build stays quick.
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCRUD_SANITIZE=ON

test-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -LE no-sanitizer

bench: build
	scripts/bench.sh $(BUILD)

# Rewrites cmake/cold_start.order, the cold-start functions lld places together (decision 0023).
cold-order: build
	scripts/cold_start_order.py $(BUILD)
	cmake --build $(BUILD) --target crud-api -j $(JOBS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy: $(BUILD)/build.ninja
	run-clang-tidy -quiet -p $(BUILD) $$(git ls-files 'src/*.cpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# --- Fuzzing (fuzz/, docs/reliability.md "Fuzzing") ----------------------------------------
# libFuzzer targets built with clang, ASan and UBSan, in their own tree. `make fuzz` runs each
# for FUZZ_SECONDS; `make fuzz-smoke`, part of `make test`, for 20 s each, then replays
# fuzz/regressions/. Both fail on any crash, leak, sanitizer report or slow input. Only the
# fuzzers and the libraries they link are built (no tests, no Beast), at -O1 with line tables.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 180

.PHONY: fuzz fuzz-smoke fuzz-build

$(FUZZ_BUILD)/build.ninja:
	cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCRUD_FUZZ=ON \
	  -DCRUD_BUILD_TESTS=OFF

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) --target fuzzers -j $(JOBS)

fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	fuzz/run.sh $(FUZZ_BUILD) 20

# --- Reliability runs (docs/reliability.md; docs/decisions/0014-connection-limits-and-soak.md) --
# `make soak`: serve on SQLite under a paced mixed load at 70% of its measured capacity for
# SOAK_SECONDS, then every acknowledged write is checked. `make faults`: serve on dynalite under
# load while the fault proxy injects each fault. `make hostile-http`: the raw-socket table.
SOAK_SECONDS ?= 600

.PHONY: soak faults hostile-http

soak: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) --target crud-api -j $(JOBS)
	SOAK_SECONDS=$(SOAK_SECONDS) scripts/soak.py $(BUILD)

faults: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) --target crud-api crud_e2e_test -j $(JOBS)
	CRUD_SOURCE_DIR=$(CURDIR) CRUD_E2E_STORE=dynamodb CRUD_FAULT_RUN=1 \
	  $(BUILD)/tests/e2e/crud_e2e_test --gtest_filter='DynamoDbFaultRun.*'

hostile-http: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) --target crud-api -j $(JOBS)
	scripts/hostile_http.py $(BUILD)

# --- Mutation testing (scripts/mutate.py; docs/decisions/0019-mutation-testing-and-power-cut.md) --
# Each named mutation is a one-line bug on a security- or durability-critical line, applied to a
# scratch copy of the tree outside it; the tests that cover the line must fail ("killed"). Any
# survivor fails the target. `make mutate` runs them all; `make mutate-smoke`, part of
# `make test`, the five of the CI subset.
.PHONY: mutate mutate-smoke

mutate: deps
	scripts/mutate.py --jobs $(JOBS)

mutate-smoke: deps
	scripts/mutate.py --smoke --jobs $(JOBS)

# --- Lambda packaging (README "Packaging"; docs/decisions/0006-static-bootstrap.md) ----------
# The Release build's crud-api is the x86_64 artifact: `make build` also zips it, as
# $(BUILD)/lambda/x86_64/crud-api.zip, which `make test` checks. arm64 is cross-compiled in its
# own tree by `make package` only, so `make test` spends no time or packages on it.
ARM64_BUILD ?= build-arm64

.PHONY: package package-x86_64 package-test deps-package clean-package

package-x86_64: build

test: package-x86_64

deps-package:
	@scripts/install-deps.sh --package

package: package-x86_64 deps-package
	JOBS=$(JOBS) scripts/package.sh $(BUILD) $(ARM64_BUILD)

package-test: package-x86_64 deps-package
	JOBS=$(JOBS) scripts/package.sh --test $(BUILD) $(ARM64_BUILD)

clean: clean-package

clean-package:
	rm -rf $(ARM64_BUILD)

# --- sam build (template.yaml: `Metadata: BuildMethod: makefile`) ------------------------------
# `sam build` runs `make build-<LogicalId>` in the repository root with ARTIFACTS_DIR set (use
# `--build-in-source`, as samconfig.toml does, or it copies the whole tree first). All four
# functions ship the same bootstrap: crud-api alone, built with what is installed (no apt, no
# root), for the architecture the stack deploys with. That is read where `sam deploy` reads it:
# samconfig.toml's parameter_overrides, else template.yaml's default; LAMBDA_ARCH overrides both
# (set it to what you pass to --parameter-overrides). The copy is refused unless its ELF machine
# is that architecture, so a mismatched binary never reaches ARTIFACTS_DIR.
SAM_FUNCTIONS := CreateFunction ReadFunction UpdateFunction DeleteFunction
SAM_TEMPLATE ?= template.yaml
SAM_CONFIG ?= samconfig.toml
AARCH64_CXX ?= aarch64-linux-gnu-g++
sam_config_arch = $(shell sed -n 's/^parameter_overrides *=.*Architecture=\\"\([A-Za-z0-9_]*\)\\".*/\1/p' $(SAM_CONFIG) 2>/dev/null | head -n1)
sam_template_arch = $(shell awk '/^Parameters:/{p=1;next} /^[^ #]/{p=0} p&&/^  Architecture:/{a=1;next} a&&/^  [^ ]/{a=0} a&&/^    Default:/{print $$2;exit}' $(SAM_TEMPLATE))
ifeq ($(strip $(LAMBDA_ARCH)),)
LAMBDA_ARCH := $(or $(sam_config_arch),$(sam_template_arch))
endif
# ELF e_machine, bytes 18-19, little-endian: x86_64 62 (0x3e), arm64 183 (0xb7).
elf_machine_x86_64 := 3e 00
elf_machine_arm64 := b7 00
host_arch := $(subst aarch64,arm64,$(shell uname -m))

.PHONY: $(addprefix build-,$(SAM_FUNCTIONS)) sam-lambda-arch sam-bootstrap
sam-lambda-arch:
	@echo $(LAMBDA_ARCH)

$(addprefix build-,$(SAM_FUNCTIONS)):
	@test -n "$(ARTIFACTS_DIR)" || { echo "$@: ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	@case "$(LAMBDA_ARCH)" in x86_64|arm64) ;; *) echo "$@: unknown architecture '$(LAMBDA_ARCH)' (x86_64 or arm64)" >&2; exit 2;; esac
ifeq ($(LAMBDA_ARCH),$(host_arch))
	@missing=""; for c in cmake ninja g++; do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	  test -z "$$missing" || { echo "$@: missing$$missing (scripts/install-deps.sh installs them)" >&2; exit 2; }
	test -f $(BUILD)/build.ninja || cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release
	@grep -q '^CRUD_STATIC_RUNTIME:BOOL=ON' $(BUILD)/CMakeCache.txt || \
	  { echo "$@: $(BUILD) is not a static-runtime Release build, so it is no Lambda artifact" >&2; exit 2; }
	cmake --build $(BUILD) --target crud-api -j $(JOBS)
	$(MAKE) --no-print-directory sam-bootstrap BOOTSTRAP_SRC=$(BUILD)/crud-api
else ifeq ($(LAMBDA_ARCH)-$(host_arch),arm64-x86_64)
	@missing=""; command -v $(AARCH64_CXX) >/dev/null || missing="$$missing $(AARCH64_CXX) (g++-aarch64-linux-gnu)"; \
	  for lib in libssl.a libcrypto.a libsqlite3.a; do \
	    test -f /usr/lib/aarch64-linux-gnu/$$lib || missing="$$missing /usr/lib/aarch64-linux-gnu/$$lib"; done; \
	  test -z "$$missing" || { echo "$@: building for arm64 on $(host_arch) needs a cross toolchain; missing:$$missing." \
	    "Install them with scripts/install-deps.sh --package (root), or deploy x86_64: set Architecture=x86_64" \
	    "in samconfig.toml's parameter_overrides (or LAMBDA_ARCH=x86_64 with --parameter-overrides Architecture=x86_64)." >&2; exit 2; }
	test -f $(ARM64_BUILD)/build.ninja || cmake -S . -B $(ARM64_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release \
	  -DCRUD_BUILD_TESTS=OFF -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/aarch64-linux-gnu.toolchain.cmake
	cmake --build $(ARM64_BUILD) --target crud-api -j $(JOBS)
	$(MAKE) --no-print-directory sam-bootstrap BOOTSTRAP_SRC=$(ARM64_BUILD)/crud-api
else
	@echo "$@: cannot build $(LAMBDA_ARCH) on $(host_arch): no cross toolchain for it is set up here" >&2; exit 2
endif

# The last step of build-<Function>: the binary becomes ARTIFACTS_DIR/bootstrap only if its ELF
# machine is LAMBDA_ARCH's.
sam-bootstrap:
	@test -n "$(ARTIFACTS_DIR)" -a -n "$(BOOTSTRAP_SRC)" || { echo "$@: needs ARTIFACTS_DIR and BOOTSTRAP_SRC" >&2; exit 2; }
	@magic=$$(od -An -tx1 -N4 "$(BOOTSTRAP_SRC)" | xargs); got=$$(od -An -tx1 -j18 -N2 "$(BOOTSTRAP_SRC)" | xargs); \
	  test "$$magic" = "7f 45 4c 46" -a "$$got" = "$(elf_machine_$(LAMBDA_ARCH))" || { \
	    echo "$@: $(BOOTSTRAP_SRC) is not an $(LAMBDA_ARCH) executable (ELF machine $$got), refusing to ship it" >&2; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	install -m 0755 "$(BOOTSTRAP_SRC)" "$(ARTIFACTS_DIR)/bootstrap"
