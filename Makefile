# Two entry points: `make report` (set up, then build the report) and `make test`.
# Both are idempotent: a second run skips what is already in place.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= full
BUILD_ARGS ?=
PYTEST_ARGS ?=
SOURCES := $(shell find src templates report -type f -not -name '*.pyc' 2>/dev/null)

.PHONY: report test setup system lint clean

report: setup
	$(BIN)/fmnist-report build --profile $(PROFILE) $(BUILD_ARGS)

test: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pytest $(PYTEST_ARGS)

setup: system $(VENV)/.installed

system:
	@sh scripts/system-deps.sh

# Reinstall when the project's files change: the install maps templates/ and report/ into
# the package, so a new file needs a fresh link tree.
$(VENV)/.installed: pyproject.toml $(SOURCES)
	test -x $(BIN)/python || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip; }
	$(BIN)/python -m pip install --quiet -e ".[cpu,dev]" --config-settings editable_mode=strict
	touch $@

lint:
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

clean:
	rm -rf output/cache output/figures output/model output/report.* output/metrics.*
