# The README's two commands are `make run` and `make test`; each installs what is missing.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
SWAGGER := layers/core/mamba/static/swagger/swagger-ui-bundle.js
# The web panel (web/, docs/web.md): its own npm project, built to web/dist, which `make run` serves.
WEB_STAMP := web/node_modules/.installed-$(shell cat web/package-lock.json | cksum | cut -d' ' -f1)
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json
WEB_DIST := web/dist/index.html
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)

.PHONY: run test lint bench package deps assets clean lock web web-types web-lint web-test fuzz load

deps: $(STAMP) $(NODE_STAMP) $(SWAGGER) $(WEB_DIST)

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(PY) || $$(scripts/find-python.sh) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip sync -q --python $(PY) requirements-dev.lock
	$(BIN)/uv pip install -q --python $(PY) --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.installed-* && touch $@

$(SWAGGER): $(NODE_STAMP)
	@mkdir -p $(dir $@)
	cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	   node_modules/swagger-ui-dist/swagger-ui-standalone-preset.js $(dir $@)

assets: $(SWAGGER)

# web/ installs into its own node_modules (the root one is the tools' ASL validator and docs).
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@rm -f web/node_modules/.installed-* && touch $@

$(WEB_DIST): $(WEB_STAMP) $(WEB_SOURCES)
	cd web && node_modules/.bin/vite build --logLevel warn

web: $(WEB_DIST)

# Regenerate the app's API types after changing a route or a pydantic model.
web-types: $(STAMP) $(WEB_STAMP)
	scripts/gen-openapi-types

web-lint: $(STAMP) $(WEB_STAMP)
	scripts/gen-openapi-types --check
	cd web && node_modules/.bin/tsc --noEmit -p tsconfig.json

# Unit tests (Vitest). The browser journeys run inside pytest (tests/e2e/test_web_journeys.py).
web-test: $(WEB_STAMP)
	cd web && node_modules/.bin/vitest run

lock:
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --python-version 3.12 -o requirements-dev.lock
	$(BIN)/uv pip compile -q pyproject.toml --python-version 3.12 -o requirements.lock

run: deps
	$(PY) -m local.launcher

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -q -r layers functions --severity-level medium
	$(PY) -m infra.validate
	$(MAKE) --no-print-directory web-lint

test: lint web-test
# Work goes out in collection order (tests/conftest.py puts the e2e group first); one moto per
# worker (tests/moto_world.py); --durations=15 prints the 15 slowest tests.
	$(BIN)/pytest -n 2 --dist loadgroup --no-loadscope-reorder --cov --cov-report=term --cov-report=xml -q --durations=15

bench: deps
	$(PY) -m bench.run

# The OpenAPI fuzzer of `make test` (tests/e2e/test_api_fuzz.py), longer: 25 cases per operation.
fuzz: deps
	MAMBA_FUZZ_COVERAGE=1 MAMBA_FUZZ_EXAMPLES=$${MAMBA_FUZZ_EXAMPLES:-25} $(BIN)/pytest -p no:randomly -q tests/e2e/test_api_fuzz.py

# Only the load scenario of `make bench` (200 users, 60 s); `LOAD_USERS=20 LOAD_SECONDS=10 make load` for a short one.
load: deps
	$(PY) -m bench.load --users $${LOAD_USERS:-200} --seconds $${LOAD_SECONDS:-60}

package: deps
	$(PY) -m infra.build

clean:
	rm -rf build .local .coverage coverage.xml web/dist
