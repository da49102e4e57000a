# Everything runs through a project-local virtual environment: a Debian system Python is
# "externally managed" (pip refuses to install into it), and a bare `etamil` or `gunicorn` on PATH
# may be someone else's. `make install` creates $(VENV) with $(PYTHON) and installs the project
# into it; every other target calls $(VENV)/bin/... only.
#
#   make serve                         PORT=9000, PROGRAM=..., DATA_DIR=... to change
#   make test                          PYTEST_ADDOPTS='tests/lang' to run a part
#   make install PYTHON=/usr/bin/python3

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ETAMIL := $(VENV)/bin/etamil
# `make install` reinstalls only when the package definition changed (or the venv is new)
INSTALLED := $(VENV)/.installed

PROGRAM ?= examples/ledger_api.qmz
PORT ?= 8080
# what the served example writes (its SQLite file) goes here, ignored by git
DATA_DIR ?= data
LEDGER_DB ?= $(DATA_DIR)/ledger.db

.PHONY: install test lint bench serve loadtest services

install: $(INSTALLED)

# A failed `python3 -m venv` (on Debian: no ensurepip without the python3-venv package) leaves a
# half-made directory behind; remove it so that the next run starts over.
$(PY):
	@$(PYTHON) -m venv $(VENV) || { \
		rm -rf $(VENV); \
		echo "make: could not create the virtual environment $(VENV) with $(PYTHON)." >&2; \
		echo "      On Debian/Ubuntu install the venv module first: apt-get install python3-venv" >&2; \
		exit 1; }

$(INSTALLED): setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	$(PY) -m compileall -q etamil_server workers conf >/dev/null
	@touch $@

services:
	bash .ci/services.sh

# wrk drives the load-test tests: installed when root; elsewhere its tests skip (CI requires it)
test: install services
	bash bench/install_wrk.sh || [ "$${ETAMIL_TEST_REQUIRE_SERVICES:-0}" != 1 ]
	$(PY) -m pytest -q

lint: install
	$(PY) -m ruff check etamil_server workers conf tests bench

bench: install
	$(PY) bench/vm_tax.py

serve: install
	@mkdir -p $(dir $(LEDGER_DB))
	LEDGER_DB=$(LEDGER_DB) $(ETAMIL) serve $(PROGRAM) --port $(PORT)

# make loadtest [SECONDS=10] [LEVELS="1 10 100 1000"] [SCENARIO=ramp|spike|sustained|shutdown]
#               [DURATION=600] [ETAMIL_URL=http://127.0.0.1:8080]   (docs/OPERATIONS.md, Measuring)
# The variables reach the script as arguments, never through the environment: SECONDS is bash's
# own counter, so only a SECONDS given on make's command line counts.
LOADTEST_SECONDS = $(if $(filter command line,$(origin SECONDS)),$(SECONDS))
LOADTEST_ARGS = $(strip $(if $(LOADTEST_SECONDS),--seconds '$(LOADTEST_SECONDS)') \
	$(if $(LEVELS),--levels '$(LEVELS)') $(if $(SCENARIO),--scenario '$(SCENARIO)') \
	$(if $(DURATION),--duration '$(DURATION)') $(if $(ETAMIL_URL),--url '$(ETAMIL_URL)'))
loadtest: install
	bash bench/install_wrk.sh
	$(PY) -c 'import matplotlib' 2>/dev/null || $(PY) -m pip install -q -e '.[loadtest]' --config-settings editable_mode=compat
	$(PY) -m bench.loadtest $(LOADTEST_ARGS)
