# Two commands on a fresh machine: `make run` (the service on SQLite) and `make test`.
# uv is bootstrapped with pip when missing; it never downloads a Python (requires 3.11+).
SHELL := /bin/bash
PYTHON ?= python3
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint format openapi bench clean

setup:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

run: setup
	@$(UV) run workshop db upgrade
	@$(UV) run workshop seed --if-empty
	@$(UV) run workshop api-key bootstrap
	@echo "serving on http://$(HOST):$(PORT) (docs at /docs); Ctrl+C stops"
	@$(UV) run workshop serve --host $(HOST) --port $(PORT)

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run bandit -q -c pyproject.toml -r app
	$(UV) run hadolint Dockerfile

# Coverage is measured on the suite; the API fuzz runs beside it without coverage's tracer, which
# made it about 2.5 times slower (docs/Development_Setup.md).
test: lint
	bash scripts/ensure-services.sh
	PYTEST_ARGS="$(PYTEST_ARGS)" FUZZ_ARGS="$(FUZZ_ARGS)" bash scripts/run-tests.sh "$(UV)"

format: setup
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

bench: setup
	$(UV) run python bench/imports.py $(BENCH_ARGS)
	$(UV) run python bench/dashboards.py
	$(UV) run python bench/lists.py

openapi: setup
	$(UV) run workshop openapi --output docs/openapi.json

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov data
