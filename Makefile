# The project's front door. `make run` and `make test` install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all deps build run test test-release test-asan bench format tidy clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/crud-api serve

test: build
	$(MAKE) --no-print-directory test-release
	$(MAKE) --no-print-directory test-asan

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

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy: $(BUILD)/build.ninja
	run-clang-tidy -quiet -p $(BUILD) $$(git ls-files 'src/*.cpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

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
# functions ship the same bootstrap, the one in `make package`'s zip for LAMBDA_ARCH, which must
# match the stack's Architecture parameter: `LAMBDA_ARCH=x86_64 sam build` for x86_64.
LAMBDA_ARCH ?= arm64
SAM_FUNCTIONS := CreateFunction ReadFunction UpdateFunction DeleteFunction

.PHONY: $(addprefix build-,$(SAM_FUNCTIONS))
$(addprefix build-,$(SAM_FUNCTIONS)):
	@test -n "$(ARTIFACTS_DIR)" || { echo "$@: ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	$(MAKE) --no-print-directory $(if $(filter x86_64,$(LAMBDA_ARCH)),package-x86_64,package)
	mkdir -p "$(ARTIFACTS_DIR)"
	python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("bootstrap", sys.argv[2])' \
	  $(BUILD)/lambda/$(LAMBDA_ARCH)/crud-api.zip "$(ARTIFACTS_DIR)"
	chmod 0755 "$(ARTIFACTS_DIR)/bootstrap"
