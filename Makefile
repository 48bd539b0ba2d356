# Two commands do all the set-up on a fresh machine (Python 3.10+ with venv):
#   make demo   - installs nt-deploy with the local AWS world and runs the demo
#   make test   - installs nt-deploy with the test tools and runs the whole suite
VENV ?= .venv
PY := $(VENV)/bin/python
# checkov pins an older boto3 than nt-deploy's: it lives in a venv of its own, which
# tests/examples/test_terraform.py runs through NT_DEPLOY_CHECKOV.
CHECKOV_VENV ?= .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov

# The extra installs the sibling distribution world/ (the local AWS world and the demo);
# it is then made editable too, so that a change under world/ needs no reinstall.
$(VENV)/.installed-%: pyproject.toml setup.py world/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$*]'
	$(PY) -m pip install --quiet --no-deps -e ./world
	touch $@

$(CHECKOV):
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov

.PHONY: demo test lint bench bench-speed sweep docs
demo: $(VENV)/.installed-demo
	$(VENV)/bin/nt-deploy demo

test: $(VENV)/.installed-test $(CHECKOV)
	NT_DEPLOY_CHECKOV=$(abspath $(CHECKOV)) $(PY) -m pytest -n 3 --dist worksteal --durations=10

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check neuraltrade_deploy tests
	$(VENV)/bin/mypy

bench: $(VENV)/.installed-bench
	$(PY) benchmarks/blast_radius.py

bench-speed: $(VENV)/.installed-test
	$(PY) benchmarks/bench.py

sweep: $(VENV)/.installed-test
	NT_DEPLOY_FULL_SWEEP=1 $(PY) -m pytest tests/faults -m slow -s

docs: $(VENV)/.installed-test
	$(PY) docs/generate.py
