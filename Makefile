# Willow: `make run` to try it, `make test` to test it. Everything installs into .venv.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
# Running Willow needs only its own dependencies; tests, lint and the benchmark need more.
RUN_STAMP := $(VENV)/.run-stamp
STAMP     := $(VENV)/.installed-stamp
# Exact versions with hashes: the server's own (the container installs these) and, for
# development, CI and the benchmark, the same plus the test and bench tools.
LOCK     := requirements.lock
DEV_LOCK := requirements-dev.lock
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --generate-hashes \
	--python-version 3.11 --quiet

.PHONY: install run test lint lock bench bench-full bundle clean

$(BIN)/python:
	@echo "willow: making a virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	@echo "willow: installing what running Willow needs into $(VENV) (half a minute the first time)"
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(STAMP): pyproject.toml $(DEV_LOCK) | $(BIN)/python
	@echo "willow: installing Willow with its test, lint and benchmark tools into $(VENV) (a minute or two the first time)"
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@ $(RUN_STAMP)

# After changing dependencies in pyproject.toml (or to take upgrades): re-resolve both lock
# files, then `make install` and the tests. See docs/OPERATIONS.md, "Dependencies".
lock: install
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra test --extra bench -o $(DEV_LOCK)

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

# After changing a module the visitor page loads: rebuild its bundle (needs Node's npm; only here).
bundle: install
	npm ci --no-audit --no-fund
	$(BIN)/python -m chat.bundle

bench: install
	$(BIN)/python -m bench --short

bench-full: install
	$(BIN)/python -m bench --full

clean:
	rm -rf $(VENV) willow.db willow.db-wal willow.db-shm bench/out
