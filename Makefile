# Slate: `make demo` runs the main job offline; `make test` runs the test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
BRIEF ?= A 30-second noir teaser. Night in a rain-soaked alley: Mia, a red-haired detective in a grey trench coat, waits under a flickering lamp. A car pulls up and Cole steps out holding a letter. Inside the diner, Mia reads the letter and realises she has been set up.

.PHONY: setup demo test browser lint

setup: $(VENV)/.installed

# torch first, pinned: it takes the CPU wheel and keeps pip from pulling a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e . --group dev
	touch $@

demo: setup
	$(VENV)/bin/slate demo "$(BRIEF)" --out out/demo

# Headless Chromium for the review-page test, from Debian's packages.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "install Debian's chromium package to run the review-page test"; fi; }

test: setup browser
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
