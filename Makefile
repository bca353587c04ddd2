# Every target builds .venv from nothing when it is missing; everything is installed from pyproject.toml.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes (pytest-xdist): the suite is independent per test, so both cores of the CI machine work.
JOBS ?= 2

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,all]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m hsi_conform demo

test: $(STAMP)
	$(BIN)/ruff check hsi_conform tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n $(JOBS)

lint: $(STAMP)
	$(BIN)/ruff check hsi_conform tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --readme

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
