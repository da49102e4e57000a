PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROGRAM ?= examples/ledger_api.qmz
PORT ?= 8080

.PHONY: install test lint bench serve loadtest services

install:
	$(PYTHON) -m pip install -e '.[test]' --config-settings editable_mode=compat
	$(PYTHON) -m compileall -q etamil_server workers conf >/dev/null

services:
	bash .ci/services.sh

test: install services
	$(PYTHON) -m pytest -q

lint:
	$(PYTHON) -m ruff check etamil_server workers conf tests bench

bench:
	$(PYTHON) bench/vm_tax.py

serve: install
	etamil serve $(PROGRAM) --port $(PORT)

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
