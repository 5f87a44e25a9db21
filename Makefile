# Execution Engine: the developer commands. `make run` and `make test` are the quick start.
PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.installed
LEGACY  := .venv-legacy/.installed

.PHONY: setup run test lint bench openapi dashboard clean bootstrap deploy need-project

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install --quiet --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PIP) install --quiet -r requirements-dev.txt
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

# dashboard/ -> functions/dashboard_assets/, the copy the `dashboard` function serves (tests/dashboard checks it).
dashboard: setup
	$(PY) -m dashboard.build

# Google Cloud (README, Deploying to Google Cloud): `make bootstrap PROJECT=p` once, then `make deploy PROJECT=p`.
# DRY_RUN=1 prints every command instead; secret versions: ALPACA_API_KEY_VERSION=2 and the like.
need-project:
	@test -n "$(PROJECT)" || { echo "PROJECT=<project id> is required" >&2; exit 2; }

bootstrap: setup need-project
	$(PY) -m infra.bootstrap --project=$(PROJECT) $(if $(DRY_RUN),--dry-run)

deploy: setup need-project
	$(PY) -m infra.build --project=$(PROJECT) $(if $(DRY_RUN),--dry-run) \
		--alpaca-api-key-version=$(or $(ALPACA_API_KEY_VERSION),1) \
		--alpaca-secret-key-version=$(or $(ALPACA_SECRET_KEY_VERSION),1) \
		--gateway-callers-version=$(or $(GATEWAY_CALLERS_VERSION),1)

clean:
	rm -rf .venv .venv-legacy .pytest_cache .mypy_cache .ruff_cache
