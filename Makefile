# Entry points for people and CI. `make run` and `make test` are the README's two commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
STATE ?= $(CURDIR)/state
JOBS ?= $(shell nproc)

.PHONY: deps build build-asan run test unit integration fuzz bench format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSCORIA_SANITIZE=ON -DSCORIA_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# All-in-one node: SQLite and one `file` backend under $(STATE), API on 127.0.0.1:8776.
run: build
	@bash scripts/run-aio.sh $(BUILD)/bin/scoriad $(STATE)

unit: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

integration: build build-asan
	SCORIA_BIN=$(CURDIR)/$(BUILD)/bin SCORIA_ASAN_BIN=$(CURDIR)/$(ASAN_BUILD)/bin \
	  /usr/bin/python3 -m pytest -q tests/integration

# libFuzzer targets (clang) for the iSCSI PDU parser and login, a bounded run over the kept
# corpus (tests/fuzz/corpus); FUZZ_SECONDS per fuzzer.
fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-20} bash tests/fuzz/run.sh

test: unit integration fuzz

bench: build
	bash bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'bench/*.cc')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
