# Two entry points (README Quickstart): `make text` sets up and runs the default job,
# `make test` sets up and runs the tests. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1

.PHONY: setup text test lint bench-text

$(BIN)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

setup: $(BIN)/.installed

text: setup
	$(BIN)/accelerate launch -q training/train_text.py --output_dir outputs/text

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-text: setup
	$(BIN)/python bench/bench_text.py
