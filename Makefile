# Willow: `make run` to try it, `make test` to test it. Everything installs into .venv.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
# Running Willow needs only its own dependencies; tests, lint and the benchmark need more.
RUN_STAMP := $(VENV)/.run-stamp
STAMP     := $(VENV)/.installed-stamp

.PHONY: install run test lint bench bench-full clean

$(BIN)/python:
	@echo "willow: making a virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "willow: installing what running Willow needs into $(VENV) (half a minute the first time)"
	$(BIN)/pip install --quiet -e .
	@touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "willow: installing Willow with its test, lint and benchmark tools into $(VENV) (a minute or two the first time)"
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@ $(RUN_STAMP)

install: $(STAMP)

run: $(RUN_STAMP)
	@echo "willow: starting in development mode; it prints the addresses to open"
	WILLOW_ENV=development $(BIN)/willow run

# -rs: every skipped test says why, and which setting would run it.
test: install
	$(BIN)/pytest -q -rs

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check chat moderation peers
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m bench --short

bench-full: install
	$(BIN)/python -m bench --full

clean:
	rm -rf $(VENV) willow.db willow.db-wal willow.db-shm bench/out
