# Two set-up commands: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench reliability clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,plot,parquet,postgres]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/collector demo

lint: $(STAMP)
	$(BIN)/ruff check collector tests
	$(BIN)/ruff format --check collector tests
	$(BIN)/mypy

# Two workers: the suite stays under five minutes on a 2-core machine (each worker starts its
# own throwaway PostgreSQL unless COLLECTOR_TEST_POSTGRES names a server).
test: lint
	$(BIN)/python -m pytest -q -n 2

# Benchmarks are not tests: they print figures and never assert on wall time (BENCHMARKS.md).
# BASELINE=DIR (a checkout, e.g. `git worktree add /tmp/base main`) also runs that collector
# side by side in the saturation and small-pool benchmarks.
bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks $(if $(BASELINE),--baseline $(BASELINE))

# Re-runs the reliability scenarios and rewrites RELIABILITY.md from their recorded figures.
reliability: $(STAMP)
	RELIABILITY_REPORT=RELIABILITY.md $(BIN)/python -m pytest -q tests/reliability

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
