# Two commands on a fresh clone: `make run` and `make test`. Each installs what it needs into .venv first.
PYTHON ?= python3
# Overridable, so one clone holds a venv per interpreter: `make test PYTHON=python3.13 VENV=.venv-3.13`.
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

# sam, and anything it calls, run without AWS credentials, telemetry or the instance metadata probe.
AWS_ENV := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0
# Lambda's runtime is python3.13; `sam build` looks for it on PATH (pyenv keeps one off PATH on these machines).
PY313_DIR := $(firstword $(dir $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13)))
BUILD_PATH := $(if $(PY313_DIR),$(PY313_DIR):,)$(CURDIR)/$(BIN):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install install-tools browser run events invoke test lint format validate openapi lock build bench eval clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# A stamp per requirements set: reinstall only when the pins change.
$(VENV)/.dev-installed: requirements-dev.txt layers/shared/requirements.in $(wildcard functions/*/requirements.in) | $(BIN)/python
	$(PIP) install --requirement requirements-dev.txt
	touch $@

$(VENV)/.tools-installed: requirements-tools.txt | $(BIN)/python
	$(PIP) install --requirement requirements-tools.txt
	touch $@

install: $(VENV)/.dev-installed  ## Install what run and test need into .venv

install-tools: install $(VENV)/.tools-installed  ## Also install sam, cfn-lint, ruff and mypy

# Debian's Chromium and ChromeDriver, for the browser test of the API docs (tests/e2e/test_docs_in_browser.py).
# Nothing to do when both are there; installed with apt-get when it can (as root on Debian, as CI runs); otherwise
# that test skips and says why.
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq

browser:  ## Install Debian's chromium and chromium-driver for the browser test, when missing and root
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium and chromium-driver for the browser test"; \
		$(APT_GET) update && $(APT_GET) install --yes chromium chromium-driver >/dev/null; \
	else \
		echo "No $(CHROMIUM) and no apt-get as root here: the browser test will skip"; \
	fi

# `make run`'s AWS emulation listens on a fixed port, the one events/env.json points `sam local invoke` at;
# `make events` and `make invoke` follow it (and PORT and MAILBOX_DIR, from the environment) to the running `make run`.
MOTO_PORT ?= 5010

run: install  ## Serve the whole API locally (http://127.0.0.1:3000/api/v1; its AWS emulation on port 5010)
	MOTO_PORT=$(MOTO_PORT) $(BIN)/python -m local_runtime

events: install  ## Sign the sample user in to the running `make run`; write its events to events/local/
	MOTO_PORT=$(MOTO_PORT) $(BIN)/python -m local_runtime.sample_events

FUNCTION ?= UsersFunction
EVENT ?= events/local/users.json

invoke: install  ## One event through a function, as `sam local invoke` runs it (FUNCTION=... EVENT=...), no Docker
	MOTO_PORT=$(MOTO_PORT) $(BIN)/python -m local_runtime.invoke $(FUNCTION) $(EVENT)

test: install install-tools browser  ## Run the whole test suite (sam CLI included: a test resolves environments with it)
	$(BIN)/python -m pytest -n auto -p no:cacheprovider

lint: install-tools  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install-tools  ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: install-tools  ## sam validate --lint, and cfn-lint with its informational checks too
	$(AWS_ENV) $(BIN)/sam validate --lint --template template.yaml
	$(AWS_ENV) $(BIN)/cfn-lint --include-checks I -- template.yaml

openapi: install  ## Regenerate functions/misc/openapi.json from the routes' declarations (a test checks it)
	$(BIN)/python -m local_runtime.openapi

# The lock files (requirements.txt beside each requirements.in) are what the Lambda build installs: every package,
# dependencies included, at one version with its hashes, resolved for Lambda's python3.13 on arm64 (manylinux2014,
# as the layer's Makefile installs). Each function is resolved within the layer's lock, so that a package in both is
# at the layer's version. uv keeps the pins already locked unless a source asks otherwise; LOCK_FLAGS=--upgrade
# moves every unpinned dependency to its newest release.
LOCK_FLAGS ?=
LOCK := $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.13 --python-platform aarch64-manylinux2014 \
	--custom-compile-command "make lock" $(LOCK_FLAGS)

lock: install-tools  ## Regenerate the lock files (with hashes) of the layer and the functions from their .in sources
	$(LOCK) layers/shared/requirements.in --output-file layers/shared/requirements.txt
	for source in functions/*/requirements.in; do \
		$(LOCK) $$source --constraint layers/shared/requirements.txt --output-file $${source%.in}.txt || exit 1; \
	done

build: install-tools  ## sam build: the shared layer and every function, for python3.13 on arm64
	PATH="$(BUILD_PATH)" $(AWS_ENV) $(BIN)/sam build --template template.yaml

# The cold-start benchmark imports handlers the way Lambda does: python3.13 (when present) with only the layer's
# packages and boto3, not the dev venv's extras (moto, sam and their crypto libraries slow botocore's import).
BENCH_VENV := .local/bench-venv
BENCH_PYTHON := $(if $(PY313_DIR),$(PY313_DIR)python3.13,$(PYTHON))

$(BENCH_VENV)/.installed: layers/shared/requirements.txt requirements-dev.txt $(wildcard functions/*/requirements.txt)
	$(BENCH_PYTHON) -m venv $(BENCH_VENV)
	@# The layer's lock (hashes: no other package in the same install), then the runtime's boto3 over it.
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --requirement layers/shared/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $$(grep -E '^boto3==' requirements-dev.txt)
	@# Each function's own packages in a folder of its own, as in its Lambda package (/var/task).
	for requirements in functions/*/requirements.txt; do \
		group=$$(basename $$(dirname $$requirements)); \
		if grep -qvE '^\s*(#|$$)' $$requirements; then \
			$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
				--requirement $$requirements --target .local/bench-functions/$$group --upgrade; \
		fi; \
	done
	touch $@

# The warm rows run in-process on moto, so they need the dev packages; in Lambda's python3.13 too (when present), in
# a venv of their own, not the cold start's (moto's packages there would slow botocore's import).
BENCH_DEV_VENV := .local/bench-dev-venv

$(BENCH_DEV_VENV)/.installed: requirements-dev.txt layers/shared/requirements.in $(wildcard functions/*/requirements.in)
	$(BENCH_PYTHON) -m venv $(BENCH_DEV_VENV)
	$(BENCH_DEV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --requirement requirements-dev.txt
	touch $@

# One table: cold start (in the bench venv), warm requests and round trips (in-process on moto, in python3.13), the
# built sizes (hence `build`), and the local runtime's throughput. Over-budget figures are reported, not failed on.
bench: install build $(BENCH_VENV)/.installed $(BENCH_DEV_VENV)/.installed  ## Measure the budgets of docs/budgets.md in one table (BASELINE=<rev>: cold start against it)
	$(BENCH_DEV_VENV)/bin/python -m bench --python $(BENCH_VENV)/bin/python $(if $(BASELINE),--baseline $(BASELINE))

# Not part of `make test`: ANALYZER=local runs offline; ANALYZER=bedrock needs AWS credentials (a US region).
eval: install  ## Score the analyzer (ANALYZER=local|bedrock; EVAL_ARGS=--stand-in): accuracy, F1, quotes, anchors, cost
	$(BIN)/python -m evaluation $(EVAL_ARGS)

clean:  ## Remove build output and local state (keeps .venv)
	rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
