# Entry points for people and CI. `make run` and `make test` are the README's two commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
STATE ?= $(CURDIR)/state
JOBS ?= $(shell nproc)

.PHONY: deps build build-asan build-tsan run test test-all check-vocabulary unit tsan integration integration-pg tempest fuzz bench format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSCORIA_SANITIZE=ON -DSCORIA_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# ThreadSanitizer over the data path (STYLE.md 14): only the unit tests of target/ (reactors,
# connections, TargetServer over TCP: target_server_test.cc) and volume/ (io_uring engines,
# per-reactor rings, gate, drivers) are built, not the whole tree (TSan excludes ASan, so this is
# a third build). Each binary runs TSAN_REPEAT times: races show up nondeterministically.
# setarch -R runs them without ASLR: GCC 12's TSan can abort with "FATAL: ThreadSanitizer:
# unexpected memory mapping" on kernels that randomise mmap with more bits (vm.mmap_rnd_bits=32);
# not needed with this machine's 28 bits, kept so the run does not depend on the kernel.
TSAN_TESTS = unit_target unit_volume
TSAN_REPEAT ?= 3
build-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSCORIA_TSAN=ON -DSCORIA_BENCH=OFF >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(TSAN_TESTS)

tsan: build-tsan
	@set -e; for t in $(TSAN_TESTS); do \
	  echo "== TSan: $$t (x$(TSAN_REPEAT))"; \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 $$TSAN_OPTIONS" \
	    setarch $$(uname -m) -R $(TSAN_BUILD)/bin/$$t --gtest_repeat=$(TSAN_REPEAT) --gtest_brief=1; \
	done

# All-in-one node: SQLite and one `file` backend under $(STATE), API on 127.0.0.1:8776.
run: build
	@bash scripts/run-aio.sh $(BUILD)/bin/scoriad $(STATE)

unit: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

integration: build build-asan
	SCORIA_BIN=$(CURDIR)/$(BUILD)/bin SCORIA_ASAN_BIN=$(CURDIR)/$(ASAN_BUILD)/bin \
	  /usr/bin/python3 -m pytest -q tests/integration

# The same integration suite with every daemon on PostgreSQL instead of SQLite (a fresh
# database each, on the server of $$SCORIA_TEST_POSTGRES, or one pytest starts). The cluster
# tests are left out: they run their own PostgreSQL in a network namespace either way; the RBD,
# NFS, mixed-backend and object-store tests too: they test drivers and stores, not the database.
integration-pg: build build-asan
	SCORIA_INTEGRATION_DB=postgresql SCORIA_BIN=$(CURDIR)/$(BUILD)/bin \
	  SCORIA_ASAN_BIN=$(CURDIR)/$(ASAN_BUILD)/bin \
	  /usr/bin/python3 -m pytest -q tests/integration --ignore=tests/integration/test_cluster.py \
	  --ignore=tests/integration/test_nfs.py --ignore=tests/integration/test_rbd.py \
	  --ignore=tests/integration/test_backup_stores.py \
	  --ignore=tests/integration/test_mixed_backends.py

# Cinder's own tempest volume API tests (tempest.api.volume + cinder_tempest_plugin.api) against
# a keystone-mode scoriad: tests/tempest/run_tempest.py, docs/tempest.md. keystone_server.py
# reuses the Keystone of `make test` (SCORIA_TEST_KEYSTONE) or starts one for a lone
# `make tempest`. Fails on a failure not listed in tests/tempest/known_failures.txt.
TEMPEST_SUMMARY ?= $(CURDIR)/$(BUILD)/tempest-summary.txt
tempest: build
	SCORIA_BIN=$(CURDIR)/$(BUILD)/bin SCORIA_TEMPEST_SUMMARY=$(TEMPEST_SUMMARY) \
	  /usr/bin/python3 tests/support/keystone_server.py run -- \
	  /usr/bin/python3 tests/tempest/run_tempest.py

# libFuzzer targets (clang) for the iSCSI PDU parser and login, a bounded run over the kept
# corpus (tests/fuzz/corpus); FUZZ_SECONDS per fuzzer.
fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-20} bash tests/fuzz/run.sh

# Vocabularies spelled in one place only (scripts/check-vocabulary.sh): runs first, in a second.
check-vocabulary:
	@bash scripts/check-vocabulary.sh

# One PostgreSQL server for the whole run (tests/support/pg_server.py: started before, stopped
# by pid after), shared by the database unit tests and both integration passes; inside it one
# single-node Ceph with radosgw (tests/support/ceph_server.py, ~25 s to start), shared by the
# RBD driver's unit and integration tests and the object-store backup tests; and one Keystone
# (tests/support/keystone_server.py, ~18 s to start and fill) for the token validator's tests,
# the keystone integration tests and tempest (after the integration passes).
test: deps
	@/usr/bin/python3 tests/support/pg_server.py run -- \
	  /usr/bin/python3 tests/support/ceph_server.py run --rgw -- \
	  /usr/bin/python3 tests/support/nfs_server.py run -- \
	  /usr/bin/python3 tests/support/keystone_server.py run -- \
	  $(MAKE) --no-print-directory test-all

test-all: check-vocabulary unit tsan integration integration-pg tempest fuzz

bench: build
	bash bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'bench/*.cc')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
