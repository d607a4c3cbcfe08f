# A Linux and macOS convenience over scripts/dev.py, which the README's commands call on
# every system: `make report` (set up, then build the report) and `make test`.
PYTHON ?= python3
PROFILE ?= full
BUILD_ARGS ?=
PYTEST_ARGS ?=
LOCK_ARGS ?=
LINTED := src tests benchmarks scripts
BIN := .venv/bin

.PHONY: report test setup lint lock clean

report:
	$(PYTHON) scripts/dev.py report --profile $(PROFILE) $(BUILD_ARGS)

test:
	$(PYTHON) scripts/dev.py test $(PYTEST_ARGS)

setup:
	$(PYTHON) scripts/dev.py setup

# Refresh requirements/lock.txt after changing dependencies in pyproject.toml (needs the network).
# It keeps every pinned version it can; LOCK_ARGS="--upgrade-package NAME" or "--upgrade" moves them.
lock: setup
	$(BIN)/python scripts/lock.py $(LOCK_ARGS)

lint: setup
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

clean:
	rm -rf output/cache output/figures output/model output/report.* output/metrics.* output/references.bib
