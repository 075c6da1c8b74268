# The hotline's two commands: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
# Rasa 3.6 runs on Python 3.10 only: the first python3.10 that really is 3.10 (pyenv included).
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo $$p; break; }; done)

CATALOG := $(wildcard data/catalog/*.yml)
GENERATED := data/jieba/userdict.txt data/nlu/service_lookup.yml
TRAINING := config.yml domain.yml $(GENERATED) $(wildcard data/nlu/*.yml data/rules/*.yml data/stories/*.yml)
MODEL := models/current.tar.gz
# Never data/nlu_test: the held-out set is only for `make eval`.
TRAINING_DATA := data/nlu data/rules data/stories
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export RASA_TELEMETRY_ENABLED ?= false
# Compiled modules are kept (__pycache__, git-ignored): every command, server and test process after the first
# starts without compiling the project again (and pytest keeps its rewritten test modules).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help venv model appeal-classifier run run-prod nginx chat seed lint test test-fast test-unit test-data test-stories test-e2e eval eval-dialogues eval-catalog bench bench-ack bench-handoff browsers

help:
	@echo "make run   - build what is missing (venv, model, database) and start the hotline"
	@echo "make test  - lint, unit and action tests, data validation, conversation and end-to-end tests"
	@echo "make test-fast - the unit and action tests only (the inner loop, under 2 minutes)"
	@echo "make run-prod - two Rasa instances and the action server behind nginx, on the local PostgreSQL and Redis"
	@echo "make chat  - talk to the running hotline in this terminal"
	@echo "make eval  - NLU evaluation on the held-out test set (data/nlu_test)"
	@echo "make eval-dialogues - the blind dialogue set played on every channel (SET=dev|test, default dev)"
	@echo "make bench - turn latency against Rasa's stock starter assistant"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found (Rasa 3.6 needs it): install it or set PYTHON310=/path/to/python3.10"; exit 1; }
	test -d $(VENV) || $(PYTHON310) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.lock
	touch $@

$(GENERATED) &: $(CATALOG) bot/catalog/nlu_generate.py | venv
	$(PY) -m bot nlu generate

model: $(MODEL)
$(MODEL): $(TRAINING) | venv
	$(RASA) train --data $(TRAINING_DATA) --fixed-model-name current --out models --quiet

# The built-in appeal classifier, fitted from data/appeals once (about 12 s) into var/cache, where the action
# server and the tests load it; afterwards this only loads it (the cache is keyed by what it is fitted from).
appeal-classifier: | venv
	$(PY) -m bot classify < /dev/null

# Upgrades the schema first (Alembic: python -m bot db upgrade), then the catalogue and the demo cases.
seed: | venv
	$(PY) -m bot seed

run: venv model appeal-classifier seed
	$(PY) -m bot run

# The production topology on this machine: two Rasa instances and the action server behind nginx, on
# the local PostgreSQL (a database of its own, created and upgraded) and Redis (README: run-prod).
PROD_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/hotline_prod
PROD_REDIS_URL ?= redis://127.0.0.1:6379/2
NGINX := /usr/sbin/nginx
run-prod: venv model nginx
	DATABASE_URL=$${DATABASE_URL:-$(PROD_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(PROD_REDIS_URL)} \
		$(PY) -m bot run-prod --instances $${INSTANCES:-2} --port $${PORT:-8080}

nginx: $(NGINX)
$(NGINX):
	apt-get install -y nginx || { apt-get update && apt-get install -y nginx; }

chat: | venv
	$(PY) -m bot chat

lint: | venv
	$(VENV)/bin/ruff check bot channels console tests bench
	$(VENV)/bin/mypy bot channels console

# Both cores: unit and action tests spread test by test; end-to-end tests module by module, so
# that a module's servers start once, on one worker.
JOBS ?= 2
PYTEST := $(PY) -m pytest -q -n $(JOBS)
UNIT_TESTS := tests/bot tests/actions tests/channels tests/console

# worksteal: a worker that runs out of tests takes some of the other's (2:07 instead of 2:14 on a quiet
# machine, 2026-12-06); a third worker costs more than it gains (2:39: each builds its own fixtures).
test-fast: | venv appeal-classifier
	$(PYTEST) --dist worksteal $(UNIT_TESTS)

test-unit: test-fast

test-e2e: $(MODEL) browsers nginx | venv
	$(PYTEST) --dist loadfile --durations=10 tests/e2e

test-data: $(GENERATED) | venv
	$(PY) -m bot nlu generate --check
	$(RASA) data validate --data $(TRAINING_DATA) --fail-on-warnings --quiet

test-stories: $(MODEL)
	$(RASA) test core --stories tests/test_stories.yml --model $(MODEL) --out results/stories \
		--fail-on-prediction-errors --no-plot --quiet || { cat results/stories/failed_test_stories.yml; exit 1; }

# Set A guided data and config choices (a development set); set B was never used for any choice.
eval: $(MODEL)
	@for set in set_a set_b; do \
		$(RASA) test nlu --nlu data/nlu_test/$$set.yml --model $(MODEL) --out results/nlu_$$set \
			--successes --no-plot --quiet >/dev/null 2>&1 || exit 1; \
		echo "=== $$set ==="; $(PY) bench/nlu_eval.py results/nlu_$$set; echo; \
	done
	$(RASA) test nlu --nlu data/nlu_test --model $(MODEL) --out results/nlu --successes --no-plot --quiet >/dev/null 2>&1
	@echo "=== both sets ==="; $(PY) bench/nlu_eval.py results/nlu
	@echo; echo "=== appeal classifier (data/appeals, held-out split) ==="; $(PY) bench/appeal_eval.py

# The blind dialogue set (data/eval/dialogues), played through each channel's real route on a fresh
# database. SET=test only once, at the end (see its README). EVAL_ARGS: --only ID, --category C, --json FILE.
# DIALOGUES=dialogues_2: the second blind set (materials, flow, report).
SET ?= dev
DIALOGUES ?= dialogues
eval-dialogues: $(MODEL) | venv
	$(PY) bench/eval_dialogues.py --set $(SET) --dialogues $(DIALOGUES) $(EVAL_ARGS)

# The catalogue search on the blind citizen questions against the real Guangdong catalogue (dev
# half by default; SET=test only once, at the end: the test half is held out). QUESTIONS=catalog_questions_2
# for the second blind set.
QUESTIONS ?= catalog_questions
eval-catalog: | venv
	$(PY) bench/eval_catalog.py --set $(SET) --questions $(QUESTIONS)

bench: $(MODEL)
	$(PY) bench/turn_latency.py

bench-ack: $(MODEL)
	$(PY) bench/webhook_ack.py

bench-handoff: $(MODEL)
	$(PY) bench/handoff_latency.py 30

# The web chat's end-to-end tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium
browsers: $(CHROMIUM)
$(CHROMIUM):
	apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }

test: venv lint test-data model browsers nginx test-fast test-e2e test-stories
