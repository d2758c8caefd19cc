# The front door. `make demo` and `make test` are all a newcomer needs;
# both install missing Debian packages first (scripts/install-deps).
BUILD      ?= build
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CLANG      := $(shell command -v clang++-14 2>/dev/null)
CMAKE_ARGS ?=

.PHONY: all deps configure build demo test fuzz bench format tidy clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DPANTAU_FUZZ_BUILD_DIR=$(abspath $(FUZZ_BUILD)) $(CMAKE_ARGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

# Runs `pantau serve` on its embedded defaults: data in ./data, UI and APIs
# on :9090. Ctrl-C stops it cleanly.
demo: build
	$(BUILD)/src/cli/pantau serve

# Fuzzers need clang-14 with libFuzzer; without it the fuzz.* tests skip.
fuzz: deps
ifneq ($(CLANG),)
	@test -f $(FUZZ_BUILD)/build.ninja || cmake -S . -B $(FUZZ_BUILD) -G Ninja \
	  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPANTAU_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
else
	@echo "clang++-14 not found: fuzz targets are not built"
endif

test: fuzz build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: build
	@echo "benchmarks: see bench/README.md"

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

tidy: configure
	git ls-files 'src/*.cc' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
