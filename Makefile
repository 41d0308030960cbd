# Polycast: `make run` and `make test` do all setup on a fresh Debian/Ubuntu machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

DEB_PACKAGES := apertium apertium-eng-spa apertium-eng-cat apertium-en-gl apertium-fr-es \
	apertium-es-pt apertium-es-it apertium-es-ro espeak-ng chromium \
	festival festvox-kallpc16k zbar-tools poppler-utils
# Node.js (for the CDK CLI and the page's JS tests) counts as present when its commands
# are: some machines carry a nodejs build that bundles npm and conflicts with Debian's.
NODE_PACKAGES := nodejs npm

.PHONY: help setup engines python-env cdk-cli run local test lint typecheck unit bench synth clean

help:
	@echo "make run    set up (venv, packages, engines) and run the pipeline locally with a demo talk"
	@echo "make test   set up, then lint, type checks and the whole test suite"
	@echo "make bench  run every benchmark scenario at full size"
	@echo "make synth  synthesize the CDK app into cdk.out/"

setup: engines python-env cdk-cli

# Debian packages: install only what is missing (sudo when not root). Checked every
# time (a few dpkg queries), so a package removed since the last run comes back.
engines:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing="$$missing $(NODE_PACKAGES)"; fi; \
	missing=$$(echo $$missing); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

python-env: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[local,dev]'
	@touch $@

# The CDK CLI, from the npm registry, into ./node_modules (see package.json).
cdk-cli: node_modules/.bin/cdk
node_modules/.bin/cdk: package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

run: setup
	$(BIN)/polycast demo

local: setup
	$(BIN)/polycast local

# lint-imports: the layer contracts in pyproject.toml ([tool.importlinter]).
lint: python-env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

# mypy --strict: the package, the CDK app, and each handler on its own (all are "handler").
typecheck: python-env
	$(BIN)/mypy
	$(BIN)/mypy infra
	@for h in stream_processors/*/handler.py; do $(BIN)/mypy --strict $$h || exit 1; done

unit: python-env
	$(BIN)/pytest tests/unit -q

test: setup lint typecheck
	$(BIN)/pytest -q

bench: setup
	$(BIN)/polycast bench --json docs/bench/bench.json --plot docs/bench/bench.png

synth: setup
	cdk synth --quiet

clean:
	rm -rf $(VENV) node_modules cdk.out .polycast .pytest_cache .mypy_cache .ruff_cache
