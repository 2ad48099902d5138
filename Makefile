# Pharmacy partner portal — the commands a newcomer needs.
#   make run    install, migrate, load demo data, serve http://127.0.0.1:8000 (SQLite, in-process tasks, sandbox)
#   make test   install, then run the whole suite (PostgreSQL, Redis, a real Celery worker, headless Chromium)
#   make up     a production-like stack on this machine: gunicorn + Celery worker + beat, PostgreSQL, Redis
#   make down   stop what `make up` started
#   make lint   ruff, and no model change without its migration
#   make soak   bench/soak.py: N onboardings (default 2000) through a faulty sandbox, a worker SIGKILLed; all counts 0

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

# The suite's services (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_BROKER_URL   ?= redis://127.0.0.1:6379/0
TEST_CACHE_URL    ?= rediscache://127.0.0.1:6379/1

.PHONY: run test up down lint messages soak install install-dev system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Test-only JavaScript (axe-core for the accessibility checks), pinned in package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev node_modules/.package-lock.json

system-deps:
	@scripts/system-deps.sh

# A development process: debug on (development keys, console email and gateway, the sandbox).
# The demo pharmacy is put on Bimedoc (the sandbox, in-process) before the server starts.
run: export DJANGO_DEBUG = true
run: install
	$(BIN)/python manage.py migrate --noinput
	SANDBOX_URL=$${SANDBOX_URL:-http://$(HOST):$(PORT)/sandbox} PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} \
	$(BIN)/python manage.py load_demo
	SANDBOX_URL=$${SANDBOX_URL:-http://$(HOST):$(PORT)/sandbox} PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-dev system-deps
	DATABASE_URL=$(TEST_DATABASE_URL) \
	CELERY_BROKER_URL=$(TEST_BROKER_URL) CELERY_TASK_ALWAYS_EAGER=true \
	CACHE_URL=$(TEST_CACHE_URL) \
	DJANGO_DEBUG=true SANDBOX_ENABLED=true \
	$(BIN)/pytest $(PYTEST_ARGS)

up: install
	@scripts/up.sh

down:
	@scripts/down.sh

lint: install-dev
	$(BIN)/ruff check .
	DJANGO_DEBUG=true SANDBOX_ENABLED=true $(BIN)/python manage.py makemigrations --check --dry-run

messages: export DJANGO_DEBUG = true
messages: export SANDBOX_ENABLED = true
messages: install-dev
	$(BIN)/python manage.py makemessages --all --ignore=.venv --ignore=staticfiles --ignore=tests --no-obsolete --no-location
	$(BIN)/python manage.py compilemessages --ignore=.venv

# Its own database and Redis databases (flushed): override SOAK_DATABASE_URL, SOAK_BROKER_URL, SOAK_CACHE_URL.
# Variants: SOAK_ARGS="--pool threads --concurrency 16", SOAK_ARGS="--throttle-rate 0.02 --retry-after 1".
N ?= 2000
SOAK_ARGS ?=
soak: install-dev
	$(BIN)/python bench/soak.py --n $(N) $(SOAK_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles test-artifacts .pytest_cache
