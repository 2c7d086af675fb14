# leadguard: `make run` starts the whole stack on embedded defaults,
# `make test` runs every check. Both create what they need on first use.

SHELL := /bin/bash
PYTHON ?= python3.11
# Rasa 3.6 needs Python 3.10: the first interpreter that really is 3.10 (a
# pyenv shim named python3.10 may exist without the version behind it).
PY310 ?= $(shell for p in $(HOME)/.pyenv/versions/3.10.*/bin/python python3.10; do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
RASA_VENV := .venv-rasa
BIN := $(VENV)/bin
export LEADGUARD_VAR_DIR ?= $(CURDIR)/var
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test setup lint typecheck security unit model rasa-env venv clean

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

rasa-env: $(RASA_VENV)/.installed
$(RASA_VENV)/.installed: bot/requirements.txt
	@test -n "$(PY310)" || { echo "error: Python 3.10 not found (Rasa 3.6 needs it); set PY310=/path/to/python3.10"; exit 2; }
	$(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip==25.3
	$(RASA_VENV)/bin/pip install -q --disable-pip-version-check -r bot/requirements.txt
	touch $@

# Trains only when the bot's inputs changed (the model is cached by hash).
model: venv rasa-env
	$(BIN)/python bot/train_model.py

setup: venv
	@mkdir -p $(LEADGUARD_VAR_DIR)
	@test -f $(LEADGUARD_VAR_DIR)/keyring.json || $(BIN)/leadguard keys init
	@$(BIN)/leadguard db upgrade >/dev/null 2>&1 || $(BIN)/leadguard db upgrade
	@$(BIN)/leadguard dev first-start

# Every process of the stack records metrics into one directory (see
# leads/metrics.py); first-start empties it.
run: export PROMETHEUS_MULTIPROC_DIR := $(LEADGUARD_VAR_DIR)/metrics
# make run is the development stack: nurture delays are compressed (a day
# lasts a minute, no send window) so a whole sequence arrives in minutes.
run: export LEADGUARD_NURTURE_DEMO ?= true
run: setup model
	$(BIN)/leadguard dev banner
	$(BIN)/honcho --procfile Procfile start

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy leads actions nurture console

security: venv
	$(BIN)/python -m leads.security_checks

unit: venv rasa-env model
	$(BIN)/pytest -q

test: lint typecheck security unit

clean:
	rm -rf $(VENV) $(RASA_VENV) bot/models
