# flixstack: `make up` runs the platform locally; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed
WEB_BUILD := web/dist/index.html
WEB_SOURCES := $(wildcard web/src/*.ts web/src/*.css web/src/*/*.ts web/src/*/*.css) \
	web/index.html web/player.html web/vite.config.ts web/tsconfig.json
UP_ARGS ?=
PYTEST_ARGS ?=

.PHONY: help install browser up test lint typecheck pytest bench layer clean web-schema

help:
	@echo "make up      run the whole platform locally (emulator, resources, API) and print its URLs"
	@echo "make test    lint, type-check and run every test tier"
	@echo "make bench   run the benchmarks; JSON lands in bench/results/"
	@echo "make layer   build the Lambda dependency layer (pulumi up also builds it)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The browser code's npm packages (hls.js for the player page; Vite and TypeScript for the
# web app), from the lockfile.
$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $(WEB_STAMP)

# The web app (TypeScript, Vite): type-checked and built into web/dist, which `flixstack up`
# serves under /app/.
$(WEB_BUILD): $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run --silent build

install: $(STAMP) $(WEB_STAMP) $(WEB_BUILD)

# The web app's API types, generated from the API's OpenAPI document (a unit test fails when
# they are stale: run this after changing a route or a model the app uses).
web-schema: $(STAMP) $(WEB_STAMP)
	$(BIN)/python -m flixstack.api.openapi > web/openapi.json
	cd web && node_modules/.bin/openapi-typescript openapi.json -o src/schema.d.ts && rm openapi.json

# Debian's chromium for the real-browser tests (Playwright drives it; it never downloads one).
browser:
	@command -v chromium >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The last line is a plain command so make execs it directly: flixstack is make's child
# and shuts down when make is interrupted (see flixstack.local.supervisor).
up: install
	$(BIN)/flixstack up $(UP_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install browser
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The API benchmark's load generators (Debian packages; we run as root); the playback one's chromium.
bench: install browser
	@command -v hey >/dev/null && command -v wrk >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hey wrk >/dev/null; }
	$(BIN)/python -m bench $(BENCH_ARGS)

layer: install
	$(BIN)/python -c "from pathlib import Path; from infra import packaging; packaging.build_dependency_layer(Path('build/lambda-layer'), 'arm64')"

clean:
	rm -rf $(VENV) build .flixstack .pytest_cache .mypy_cache .ruff_cache
