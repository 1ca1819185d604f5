# Two commands for a fresh machine with Python 3.11+ and make:
#   make run    set everything up and open the console
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench bench-quick clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Certdesk needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	@$(PY) -m app.qtcheck
	$(PY) -m app

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# The figures of issue 11 (bench/README.md), never part of `make test`:
#   make bench         1k, 10k, 100k and 1M certificates (first run: the stores are built
#                      and cached, which takes minutes; the 1M figures take long)
#   make bench-quick   1k and 10k, two runs each: under two minutes
# BENCH_ARGS passes more, e.g. make bench BENCH_ARGS="--sizes 100000 --figures gui".
bench: $(STAMP)
	$(PY) bench/figures.py $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(PY) bench/figures.py --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
