# Every target creates/updates .venv by itself, so a fresh clone needs only `make run` / `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mockserver serve

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

check: $(STAMP)
	$(BIN)/ruff format --check mockserver tests bench
	$(BIN)/ruff check mockserver tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format mockserver tests bench
	$(BIN)/ruff check --fix mockserver tests bench

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
