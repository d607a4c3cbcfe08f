# Two entry points: `make report` (set up, then build the report) and `make test`.
# Both are idempotent: a second run skips what is already in place.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= full
BUILD_ARGS ?=
PYTEST_ARGS ?=
LOCK_ARGS ?=
SOURCES := $(shell find src templates report -type f -not -name '*.pyc' 2>/dev/null)
LINTED := src tests benchmarks scripts
# The virtualenv installs exactly what the lock for its Python version pins, with hashes.
PY_VERSION := $(shell $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) \
	-c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
LOCK := requirements/py$(or $(PY_VERSION),-unknown).txt

.PHONY: report test setup system lint lock clean

report: setup
	$(BIN)/fmnist-report build --profile $(PROFILE) $(BUILD_ARGS)

test: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/actionlint
	$(BIN)/zizmor --offline --no-progress .github/workflows
	$(BIN)/pytest $(PYTEST_ARGS)

setup: system $(VENV)/.installed

system:
	@sh scripts/system-deps.sh

# Reinstall when the lock or the project's files change: the install maps templates/ and
# report/ into the package, so a new file needs a fresh link tree. The project itself goes
# in without dependencies (the lock has them all) and without build isolation (the lock
# has the build backend), so nothing unpinned is downloaded.
$(VENV)/.installed: $(LOCK) requirements/pip.txt pyproject.toml $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/pip.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . --config-settings editable_mode=strict
	touch $@

requirements/py%.txt:
	@echo "error: no lock for Python $* ($@); use Python 3.11 (make PYTHON=python3.11 ...), or add $* to PYTHONS in scripts/lock.py and run 'python3 scripts/lock.py' with uv installed" >&2
	@exit 1

# Refresh requirements/ after changing dependencies in pyproject.toml (needs the network).
# It keeps every pinned version it can; LOCK_ARGS="--upgrade-package NAME" or "--upgrade" moves them.
lock: $(VENV)/.installed
	$(BIN)/python scripts/lock.py $(LOCK_ARGS)

lint:
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

clean:
	rm -rf output/cache output/figures output/model output/report.* output/metrics.* output/references.bib
