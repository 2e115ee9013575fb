# qmgrade — `make demo` and `make test` each create .venv, install, and run.
SHELL := /bin/bash
VENV := .venv
# durable-rules 2.0.28 builds only on Python 3.11/3.12 (3.13 removed PyEval_CallObject): the range is
# pyproject.toml's requires-python, read by engine/python_range.py (here and in the runtime check).
PYTHON ?= $(shell for p in python3.11 python3.12 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p engine/python_range.py --check 2>/dev/null; then echo $$p; break; fi; done)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo lint test test-full bench clean check-python

check-python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "Error: qmgrade needs Python $$(python3 engine/python_range.py --describe 2>/dev/null || echo '(see requires-python in pyproject.toml)') (durable-rules 2.0.28 does not build on 3.13+); none found on PATH." >&2; \
		exit 1; fi

$(STAMP): pyproject.toml constraints.txt examples/packs/software-delivery/pyproject.toml | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	# the example model pack (issue 12): tests/test_packs.py reaches it through its entry point
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e examples/packs/software-delivery
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/qmgrade kb validate
	$(BIN)/qmgrade assess examples/stuck-at-assurance-one-stave.yaml
	$(BIN)/qmgrade assess examples/stuck-at-assurance-one-stave.yaml --lang zh

# ruff (pycodestyle, pyflakes, bugbear, bandit's security rules) and mypy on engine/ and cli.py;
# their settings are in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/mypy

# the whole suite on two workers (pytest-xdist), property tests with the lighter "ci" Hypothesis
# profile; `make test-full` runs every property test's full number of examples
PYTEST_WORKERS ?= 2
test: lint
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest -n $(PYTEST_WORKERS)

test-full: lint
	HYPOTHESIS_PROFILE=full $(BIN)/python -m pytest -n $(PYTEST_WORKERS)

# `make bench` (about 25 minutes on a 2-core machine, most of it a stream of 1,000,000 companies);
# `make bench BENCH_ARGS=--quick` for a smaller run (2-3 minutes);
# `make bench BENCH_ARGS="--code /tmp/old-tree --model /tmp/model-copy"` to measure another source tree.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_batch.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
