# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py

.PHONY: run test lint typecheck pytest bench load faults messages translations demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

translations: $(VENV)/.runtime
	$(MANAGE) compile_translations

demo: $(VENV)/.runtime translations
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo
	$(MANAGE) seed_demo_tickets
	$(MANAGE) seed_demo_calls

## run: the portal on http://127.0.0.1:8000 with a Celery worker and Beat, on embedded defaults.
run: demo
	PATH="$(CURDIR)/$(BIN):$$PATH" DJANGO_SETTINGS_MODULE=vipsupport.settings.local \
		$(BIN)/honcho start

## test: lint, types, migrations check and the whole suite against PostgreSQL and Redis.
test: $(VENV)/.dev translations
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		  else echo "Chromium is missing: install Debian's chromium package"; exit 1; fi; }
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	DJANGO_SETTINGS_MODULE=vipsupport.settings.test DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
		$(MANAGE) makemigrations --check --dry-run
	$(BIN)/pytest --create-db -n 2

## bench: the speed figures, one `bench: <name> <value> <unit>` line each.
bench: $(VENV)/.dev
	$(BIN)/python -m bench.business_time
	# Pure CPU like the one above: before the database benchmarks, whose loads keep PostgreSQL
	# busy (vacuum, checkpoints) for a while after they end.
	$(BIN)/python -m bench.markdown
	$(BIN)/python -m bench.scan
	$(BIN)/python -m bench.queue
	$(BIN)/python -m bench.slots
	$(BIN)/python -m bench.report
	$(BIN)/python -m bench.mail
	$(BIN)/python -m bench.chat

## load: 200 locust users, 2 min, against uvicorn + production settings on 1M tickets (LOAD_ARGS=…).
load: $(VENV)/.dev translations
	$(BIN)/python -m load $(LOAD_ARGS)

## faults: break one part at a time under a running worker and Beat (own PostgreSQL, Redis and SMTP
## server each) and check every breach, notification and e-mail happened exactly once (~40 min).
faults: $(VENV)/.dev translations
	$(BIN)/python -m faults

## messages: refresh locale/bg/LC_MESSAGES/django.po from the code (needs GNU gettext).
messages: $(VENV)/.runtime
	$(MANAGE) makemessages --locale bg --ignore '.venv/*' --no-obsolete

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles
