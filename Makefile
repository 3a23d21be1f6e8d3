# The two commands of the README: `make crawl` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install crawl test lint bench

$(BIN)/backchannel: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/backchannel

# A crawl of the shipped sources into the embedded PostgreSQL under BACKCHANNEL_HOME.
crawl: install
	bash scripts/ensure-postgres.sh
	$(BIN)/backchannel init
	$(BIN)/backchannel crawl

# Everything the tests need (packages, PostgreSQL, Chromium for the browser test), then
# ruff and the whole suite.
test: install
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/crawl_speed.py
