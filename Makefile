# Two commands on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test fuzz install bench kiosk clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[postgresql,test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/poste-public serve

# The tests drive real Chromium (dashboard, kiosk page) and a real Tk screen under Xvfb.
test: install
	scripts/system-packages chromium:chromium Xvfb:xvfb xdotool:xdotool
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# schemathesis over the OpenAPI document against a live server, every check (scripts/fuzz-api).
# (In a virtual environment of its own: schemathesis brings pytest plugins that import ssl before
# the test suite's gevent patching.)
FUZZ_VENV ?= .venv-fuzz
$(FUZZ_VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install --quiet --upgrade pip
	$(FUZZ_VENV)/bin/pip install --quiet -e '.[postgresql,fuzz]'
	touch $@

fuzz: $(FUZZ_VENV)/.installed
	$(FUZZ_VENV)/bin/python scripts/fuzz-api

# Ratios measured in one run on this machine, loopback only (docs/PERFORMANCE.md).
bench: install
	scripts/system-packages wrk:wrk
	$(BIN)/python -m bench.rest
	$(BIN)/python -m bench.kiosks
	$(BIN)/python -m bench.backup
	$(BIN)/python -m bench.verify_log
	@case "$$DATABASE_URL" in postgres*) $(BIN)/python -m bench.network ;; \
	  *) echo 'bench.network skipped: it needs DATABASE_URL=postgresql://...' ;; esac
	$(BIN)/python -m bench.control
	$(BIN)/python -m bench.closing
	-$(BIN)/python -m bench.rest --engine postgresql   # needs the PostgreSQL of DATABASE_URL (or the local one)

# The kiosk alone, for the public computers: its wheel and websocket-client's, in dist/kiosk/
# (copy the folder to a USB stick or a share; docs/deployer-10-postes.md).
kiosk: $(BIN)/python
	$(BIN)/python scripts/build-kiosk --out dist/kiosk

clean:
	rm -rf $(VENV) $(FUZZ_VENV) build dist *.egg-info
