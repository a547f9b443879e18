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
PKG_BIN   := python/trackway/bin/trackway
PORT      ?= 8767
DATA_DIR  ?= $(CURDIR)/.trackway-data
PYTHON    ?= python3
PY_DEPS   := maturin==1.* pytest pyyaml numpy pandas jsonschema pillow matplotlib plotly scikit-learn
# The framework tests' own venv (torch, transformers, lightning, ...): separate from .venv so the
# main suite stays light; rebuilt only when its requirements file changes (the stamp holds its hash).
FW_VENV   := $(CURDIR)/.venv-frameworks
FW_REQS   := tests/frameworks/requirements.txt
FW_STAMP  := $(FW_VENV)/.reqs-$(shell sha256sum $(FW_REQS) 2>/dev/null | cut -c1-16)

.PHONY: help setup venv web build run demo test test-rust test-python test-web chromium bench clean-data
.PHONY: frameworks-venv test-frameworks

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: venv web build ## Install everything and build the server, CLI and Python package

$(VENV)/.deps: Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet $(PY_DEPS)
	touch $@

venv: $(VENV)/.deps ## Create the Python virtualenv with build and test tools

web: ## Build the web UI into web/dist (embedded into the server binary)
	@if [ -f web/package.json ]; then \
		cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build; \
	else echo "web/ has no package.json yet: the server serves its built-in page"; fi

build: venv ## Build the `trackway` binary and install the Python package (editable)
	cargo build --release -p trackway-cli
	mkdir -p $(dir $(PKG_BIN))
	cp $(BIN) $(PKG_BIN)
	VIRTUAL_ENV=$(VENV) PATH=$(VENV)/bin:$$PATH $(VENV)/bin/maturin develop --release --quiet

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

test: setup chromium test-rust test-python test-web test-frameworks ## Run the whole test suite

test-rust: ## Rust unit and integration tests
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

bench: setup ## Print the performance figures quoted in the closing notes
	$(PY) bench/log_bench.py
	@for b in bench/*.py; do [ "$$b" = bench/log_bench.py ] || $(PY) $$b; done
	cd web && npm run --silent perf
	cargo run --release --quiet -p trackway-import --example tb_import_bench

clean-data: ## Delete the local server data dir used by `make run`
	rm -rf $(DATA_DIR)
