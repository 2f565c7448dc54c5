# Loa Xã — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
# Station agents (no sound) run inside the demo server, so "now playing" is alive at once.
DEMO_AGENTS ?= 4
export LOAXA_INSTANCE ?= $(CURDIR)/instance
# Debian packages the audio pipeline, TTS and the station player use.
SYSTEM_PACKAGES := ffmpeg espeak-ng libvlc5 vlc-plugin-base libchromaprint-tools

.PHONY: run test test-fast lint screenshots system-packages clean

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## Install the Debian packages when we can (root or sudo with apt); otherwise say what is missing.
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing:$$missing"; (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "Could not install$$missing (offline?); audio features will say what is missing."; \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  echo "Installing:$$missing"; (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "Could not install$$missing (offline?); audio features will say what is missing."; \
	else \
	  echo "Missing system packages:$$missing (install them with: sudo apt-get install$$missing)."; \
	  echo "Still works without them: stations, schedules, timelines, the API and the panel."; \
	  echo "Needs them: audio uploads and rendering (ffmpeg), the offline voice (espeak-ng),"; \
	  echo "station playback (libvlc5 vlc-plugin-base; the agent's --player null works without)."; \
	fi

## Serve the panel and API on http://$(HOST):$(PORT) with the Hà Nam 2024 demo network.
run: $(BIN)/.installed system-packages
	@if [ -z "$$LOAXA_DATABASE_URL" ] && [ ! -e "$(LOAXA_INSTANCE)/loaxa.db" ]; then \
	  $(BIN)/loaxa init --demo; else $(BIN)/loaxa init; fi
	$(BIN)/loaxa serve --host $(HOST) --port $(PORT) --demo-agents $(DEMO_AGENTS)

## The whole test suite (PostgreSQL too when LOAXA_TEST_DATABASE_URL is set).
test: $(BIN)/.installed system-packages
	$(BIN)/pytest

## The edit loop (under a minute on two cores): SQLite only, two workers, fewer hypothesis
## examples, and none of the real-time, browser or slow (ffmpeg, espeak-ng, subprocess,
## fuzzer) tests; bytecode (and pytest's rewritten tests) cached even where the
## environment turns that off. make test runs everything; CI runs make test.
test-fast: $(BIN)/.installed
	env -u LOAXA_TEST_DATABASE_URL -u LOAXA_TEST_MQTT_URL -u LOAXA_TEST_REDIS_URL \
	  -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -q -n 2 -m "not realtime and not slow" -k "not postgresql" --ignore=tests/browser \
	  --hypothesis-profile=fast

## Screenshots of the main pages at 390 px and 1366 px → docs/screenshots/ (needs chromium).
screenshots: $(BIN)/.installed system-packages
	$(BIN)/python docs/screenshots.py

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
