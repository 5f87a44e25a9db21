# Execution Engine: the developer commands. `make run` and `make test` are the quick start.
PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.installed
LEGACY  := .venv-legacy/.installed

.PHONY: setup run test lint bench openapi clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

$(LEGACY): requirements-legacy.txt
	test -x .venv-legacy/bin/python || python3 -m venv .venv-legacy
	.venv-legacy/bin/pip install --quiet -r requirements-legacy.txt
	touch $(LEGACY)

run: setup
	$(PY) -m infra.run

test: setup $(LEGACY)
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: setup
	$(PY) -m bench

openapi: setup
	$(PY) -m functions.openapi > openapi.json

clean:
	rm -rf .venv .venv-legacy .pytest_cache .mypy_cache .ruff_cache
