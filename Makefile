# Every target builds .venv from nothing when it is missing; everything is installed from pyproject.toml.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

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
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check hsi_conform tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --readme

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
