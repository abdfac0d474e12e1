# Everything a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt constraints/build.txt | cksum | cut -d' ' -f1)

.PHONY: setup run test lint format clean bench backup restore

setup: $(STAMP) node_modules/.installed

# Reinstalls whenever requirements.txt or the build constraint changes.
$(STAMP): requirements.txt constraints/build.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--build-constraint constraints/build.txt -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

# The browser checks' tools (axe-core, the Nu HTML Checker), pinned in
# package-lock.json; reinstalled when package.json or the lock file changes.
# --ignore-scripts: vnu-jar's install script would download a Java runtime;
# the system's Java is used instead. Without npm the browser checks are
# skipped on this machine (and fail in CI), so say it loudly, but go on.
node_modules/.installed: package.json package-lock.json
	@if command -v npm > /dev/null 2>&1; then \
		echo "npm ci --no-audit --no-fund --ignore-scripts"; \
		npm ci --no-audit --no-fund --ignore-scripts && touch $@; \
	else \
		echo "!!! WARNING: npm is not installed: axe-core and the Nu HTML Checker cannot be"; \
		echo "!!! installed, so the browser checks in tests/browser will be SKIPPED here"; \
		echo "!!! (and FAIL in CI). Install Node.js and npm (Debian: apt-get install nodejs"; \
		echo "!!! npm), then run make setup again."; \
	fi

run: setup
	bin/run-local

test: setup
	$(BIN)/python -m pytest

# The benchmark (docs/performance.md): PostgreSQL, Redis and wrk on loopback,
# the M load data, gunicorn. Options go in BENCH, e.g. make bench BENCH=--sqlite
bench: setup
	bin/services wrk
	$(BIN)/python -m bench.run $(BENCH)

# Backups (docs/operations.md): into var/backups/, named with the UTC time.
backup: setup
	$(BIN)/python manage.py backup_database

# make restore FILE=var/backups/….dump [REPLACE=1]: into an empty database
# unless REPLACE=1, which drops what is there first.
restore: setup
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/<backup> [REPLACE=1]"; exit 2; }
	$(BIN)/python manage.py restore_database "$(FILE)" $(if $(REPLACE),--replace)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
