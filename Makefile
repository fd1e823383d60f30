# Entry points (README Quickstart): `make text` / `make image` set up and run the default jobs,
# `make test` sets up and runs the tests. All create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1

.PHONY: setup text image test lint bench-text bench-image

$(BIN)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

setup: $(BIN)/.installed

text: setup
	$(BIN)/accelerate launch -q training/train_text.py --output_dir outputs/text

image: setup
	$(BIN)/accelerate launch -q training/train_image.py --output_dir outputs/image

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-text: setup
	$(BIN)/python bench/bench_text.py

bench-image: setup
	$(BIN)/python bench/bench_image.py
