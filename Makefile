# Jelly: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jelly
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test lint bench install clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Development server on SQLite with eager tasks unless DATABASE_URL / CELERY_BROKER_URL are set.
run: $(STAMP)
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo
	@echo "Jelly is at http://127.0.0.1:8000 (Ctrl-C stops it)"
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The whole suite on real PostgreSQL and Redis, plus the static checks CI relies on.
test: $(STAMP) lint
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-enough-secret-key-value-for-checks \
		FIELD_ENCRYPTION_KEY=2p1o1fF1nA0bxQJ6S6u2rZkq0x8J2PGlV1xgq3GoZ1E= ALLOWED_HOSTS=jelly.example \
		SITE_URL=https://jelly.example \
		DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python manage.py check --deploy --fail-level WARNING
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
