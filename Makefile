# asc-access: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck venv clean bench

$(STAMP): pyproject.toml
	@echo "Creating $(VENV) and installing asc-access with its dependencies (about a minute, once)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	@echo "Installed. Run it as $(BIN)/asc-access, or '. $(VENV)/bin/activate' first to type asc-access."
	touch $(STAMP)

venv: $(STAMP)

## make demo: the guided tour (sandbox + SQLite, no credentials needed)
demo: $(STAMP)
	ASC_ACCESS_HOME=$${ASC_ACCESS_HOME:-$$(mktemp -d)} $(BIN)/asc-access demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

## make test: every gate and every test
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make bench: the benchmarks (they print figures; docs/benchmarks.md records them)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sandbox.py
	$(BIN)/python benchmarks/bench_sync.py
	$(BIN)/python benchmarks/bench_workers.py
	$(BIN)/python benchmarks/bench_service_load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
