# RideDesk — the two commands are `make run` and `make test`; the rest are building blocks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore
export RIDEDESK_ACTION_ENDPOINT ?= http://127.0.0.1:5055/webhook
export RIDEDESK_TRACKER_DIALECT ?= sqlite
export RIDEDESK_TRACKER_DB ?= var/tracker.db

.PHONY: help setup db train validate run shell admin test test-stories test-nlu pytest bench-nlu bench-load clean

help:
	@echo "make run       set up, train if needed, start RideDesk on SQLite"
	@echo "make test      set up, train, validate data, run every test"
	@echo "make admin USERNAME=you   create the first console admin (asks for a password)"
	@echo "make setup | db | train | validate | shell | bench-nlu | bench-load | clean"

$(VENV)/.installed: pyproject.toml scripts/setup.sh ridedesk/widget/package.json
	@scripts/setup.sh
	@scripts/browser_deps.sh widget
	@touch $@

setup: $(VENV)/.installed db

db: $(VENV)/.installed
	@mkdir -p var
	@$(PY) -m ridedesk.db migrate
	@$(PY) -m ridedesk.db seed

train: $(VENV)/.installed
	@scripts/train.sh

validate: $(VENV)/.installed
	$(RASA) data validate --fail-on-warnings

run: setup train
	@scripts/run.sh

admin: setup
	@$(PY) -m ridedesk.console create-admin --username $(or $(USERNAME),admin)

shell: setup train
	@mkdir -p var
	@$(RASA) run actions --actions actions >var/actions.log 2>&1 & pid=$$!; trap "kill $$pid" EXIT; \
	sleep 8; $(RASA) shell --model models/ridedesk.tar.gz --endpoints endpoints.yml

test-stories: train
	$(RASA) test core --model models/ridedesk.tar.gz --stories tests/stories --fail-on-prediction-errors --out results/core

test-nlu: train
	$(RASA) test nlu --model models/ridedesk.tar.gz --nlu tests/nlu/heldout.yml --out results/nlu
	$(PY) -m bench.nlu_gate results/nlu

# Browser tests run in their own pytest process: Playwright's sync API keeps an event loop
# running in the main thread, which asyncio-based tests after it cannot share.
pytest: setup
	@scripts/browser_deps.sh
	$(PY) -m pytest -q --ignore=tests/browser
	$(PY) -m pytest -q tests/browser

test: setup validate train test-stories test-nlu pytest

bench-nlu: setup
	$(PY) -m bench.nlu_compare $(if $(EVAL),--eval $(EVAL)) $(if $(SEEDS),--seeds $(SEEDS))

bench-load: train
	$(PY) -m bench.model_load

clean:
	rm -rf results var models/*.tar.gz models/.fingerprint
