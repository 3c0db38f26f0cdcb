# Two entry points for a fresh machine:
#   make build   install bzzzmon into .venv and compile specs/ (bzzz/, monitoring/) into generated/
#   make test    install everything the tests need (incl. promtool/amtool) and run them all
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: build test install tools lint check pytest bench clean

$(BIN)/bzzzmon: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/bzzzmon

# bookworm's tools system-wide when missing, and every pinned version into .tools/ (reused).
tools:
	./scripts/install-tools.sh
	./scripts/install-parts.sh

build: install
	$(BIN)/bzzzmon build

lint: install
	$(BIN)/ruff check bzzzmon tests bench
	$(BIN)/ruff format --check bzzzmon
	$(BIN)/mypy bzzzmon

# generated/ is committed: fail when it is not what the spec yields.
check: install tools
	$(BIN)/bzzzmon build --check --require-tools

# The whole suite runs on the newest tools found (sid's 3.5/0.33); the e2e suite once more on
# the oldest pair (docs/compatibility.md). The live-stack tests, which mostly wait, run beside
# the rest (scripts/run-pytest.sh).
pytest: install tools
	BIN=$(BIN) ./scripts/run-pytest.sh

test: tools install lint check pytest

bench: install tools
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/build_bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
