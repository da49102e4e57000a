PYTHON ?= python3
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

loadtest:
	bash bench/loadtest.sh http://127.0.0.1:$(PORT)/
