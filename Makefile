# Two commands set everything up: `make run` (serve the demo) and `make test` (every check).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONTRACT := ../shared/api/check_contract.py

.PHONY: run test install dev migrate schema lint format bench bench-fanout bench-bulk bench-analytics clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

run: install
	$(BIN)/loyalty migrate
	$(BIN)/loyalty seed-demo
	$(BIN)/loyalty serve

migrate: install
	$(BIN)/loyalty migrate

test: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/python $(CONTRACT) schema.graphql
	$(BIN)/python $(CONTRACT) schema.graphql ../shared/api/analytics.graphql
	$(BIN)/python $(CONTRACT) schema.graphql ../shared/api/ledger.graphql
	$(BIN)/pytest -q

lint: dev
	$(BIN)/ruff check .
	$(BIN)/mypy .

format: dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Writes schema.graphql from the code; the drift test fails until it is committed.
schema: dev
	$(BIN)/python -m api.export_schema

# The API against a plain Starlette + asyncpg reference, and one change fanned out to 2,000
# subscribers of one customer (issue 13). Drops and creates the database; uses wrk when
# installed (apt-get install wrk). See the README's Performance section.
BENCH_API_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1/bench_api
bench: dev
	$(BIN)/python bench/api_bench.py --database-url $(BENCH_API_DATABASE_URL)

# Subscription fan-out under a steady stream of earns, across many customers.
bench-fanout: dev
	$(BIN)/python bench/fanout.py

# 100,000 customers in one bulk award, on PostgreSQL (a database the benchmark may fill).
BENCH_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1/bench_bulk
bench-bulk: dev
	$(BIN)/python bench/bulk_award.py --database-url $(BENCH_DATABASE_URL)

# Analytics over 10 million journal entries (a database the benchmark fills, ~15 GiB;
# interrupted, it resumes: see the README's Performance section).
BENCH_ANALYTICS_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1/bench_analytics
bench-analytics: dev
	$(BIN)/python bench/analytics.py --database-url $(BENCH_ANALYTICS_DATABASE_URL)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
