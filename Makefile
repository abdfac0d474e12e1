# Everything a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt constraints/build.txt | cksum | cut -d' ' -f1)

.PHONY: setup run test lint format clean

setup: $(STAMP)

# Reinstalls whenever requirements.txt or the build constraint changes.
$(STAMP): requirements.txt constraints/build.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--build-constraint constraints/build.txt -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: setup
	bin/run-local

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
