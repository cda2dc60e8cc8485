# Fupin local operations (contract §0): make up | down | status | logs | test
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROJECT_LIST := $(VENV)/.projects

# every Python project of the repository, installed editable into the one virtualenv
PYPROJECTS := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml gateway/pyproject.toml)
PROJECTS := $(patsubst %/pyproject.toml,%,$(PYPROJECTS))

.PHONY: venv up down status logs test lint bench FORCE

venv: $(STAMP)

# reinstall when the virtualenv is missing, a pyproject is newer than the stamp, or projects were added/removed
$(STAMP): $(PYPROJECTS) dev/pyproject.toml $(PROJECT_LIST)
	@test -x $(BIN)/python || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q --upgrade pip; }
	$(BIN)/python -m pip install -q $(addprefix -e ,$(PROJECTS)) -e 'dev[test]'
	@touch $@

$(PROJECT_LIST): FORCE
	@mkdir -p $(VENV); echo '$(PROJECTS)' | cmp -s - $@ || echo '$(PROJECTS)' > $@

up: venv
	@$(BIN)/fupin-dev up

down:
	@if [ -x $(BIN)/fupin-dev ]; then $(BIN)/fupin-dev down; else echo "no $(VENV): nothing runs"; fi

status: venv
	@$(BIN)/fupin-dev status

logs: venv
	@$(BIN)/fupin-dev logs

# ruff over the tree; one mypy run over every package's src/ (import names are distinct, so one run checks them all
# with one cache: about 25 s of CPU cold, where one run per package re-checked the shared libraries each time)
lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy --config-file mypy.ini $(addsuffix /src,$(PROJECTS) dev)

# OCI images without Docker (buildah + a debootstrapped Debian base; deploy/README.md "Images"). Not part of `test`:
# a clean build takes minutes. IMAGES="registry finance" builds some; deploy/images/smoke.sh starts them.
images: venv
	deploy/images/build.sh $(IMAGES)

# One pytest process per suite (SQLModel metadata is global), TEST_JOBS (default 2) at a time, the fault suite alone
# last; fails if any suite failed (dev/run-suites.sh).
test: up
	@dev/run-suites.sh

# Issue 14's request-path figures against the running stack, with wrk (Debian package; installed when missing)
bench: up
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi; }
	$(BIN)/python bench/bench.py $(BENCH_ARGS)
