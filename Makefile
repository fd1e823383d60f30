# Entry points (README Quickstart): `make text` / `make image` / `make timeseries` set up and run the default jobs,
# `make test` sets up and runs the tests. All create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
# Browser tests (tests/browser.py) use this Chromium; `make browser` installs Debian's if missing.
CHROMIUM_PATH ?= /usr/bin/chromium

.PHONY: setup text image timeseries space test lint bench-text bench-image bench-timeseries bench-space browser pdftools

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

timeseries: setup
	$(BIN)/accelerate launch -q training/train_timeseries.py --output_dir outputs/timeseries

space: setup
	$(BIN)/python space/app.py

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-text: setup
	$(BIN)/python bench/bench_text.py

bench-image: setup
	$(BIN)/python bench/bench_image.py

bench-timeseries: setup
	$(BIN)/python bench/bench_timeseries.py

bench-space: setup
	$(BIN)/python bench/bench_space.py

# Headless Chromium for the browser tests: Debian's package (Playwright's own download is not
# reachable offline). Quick no-op when present; needs root (CI runs it in .ci/run).
browser:
	@if [ -x "$(CHROMIUM_PATH)" ]; then \
		echo "browser: $$($(CHROMIUM_PATH) --version 2>/dev/null || echo chromium) at $(CHROMIUM_PATH)"; \
	elif [ "$(CHROMIUM_PATH)" != /usr/bin/chromium ]; then \
		echo "browser: CHROMIUM_PATH=$(CHROMIUM_PATH) does not exist; unset it to install Debian's chromium" >&2; exit 1; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "browser: no apt-get here; install Chromium yourself and set CHROMIUM_PATH to its binary" >&2; exit 1; \
	elif [ "$$(id -u)" -ne 0 ]; then \
		echo "browser: installing Debian's chromium needs root: run 'sudo make browser'" >&2; \
		echo "         (or: sudo apt-get install -y --no-install-recommends chromium)" >&2; exit 1; \
	else \
		echo "browser: installing Debian's chromium (apt-get, about 30 s)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends chromium && \
		echo "browser: $$($(CHROMIUM_PATH) --version 2>/dev/null) at $(CHROMIUM_PATH)"; \
	fi

# pdftotext/pdftoppm (Debian's poppler-utils): the report tests read report.pdf's text and pages with them.
# Quick no-op when present; needs root (CI runs it in .ci/run).
pdftools:
	@if command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then \
		echo "pdftools: $$(pdftotext -v 2>&1 | head -1)"; \
	elif ! command -v apt-get >/dev/null 2>&1 || [ "$$(id -u)" -ne 0 ]; then \
		echo "pdftools: install poppler-utils as root (sudo apt-get install -y poppler-utils)" >&2; exit 1; \
	else \
		echo "pdftools: installing Debian's poppler-utils (apt-get)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends poppler-utils && \
		echo "pdftools: $$(pdftotext -v 2>&1 | head -1)"; \
	fi
