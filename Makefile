# The two commands a newcomer needs: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install  ## install, migrate the SQLite default and serve on 127.0.0.1:8000
	$(BIN)/cartwheel serve

test: install  ## install and run the whole suite, on SQLite and PostgreSQL, one process per core
	scripts/ensure-postgres.sh
	scripts/ensure-node.sh
	scripts/ensure-chromium.sh
	$(BIN)/pytest -n auto --durations=15

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: install  ## the ingest load benchmark (see docs/performance.md); needs wrk
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.ingest

clean:
	rm -rf $(VENV) cartwheel.db cartwheel.db-wal cartwheel.db-shm
