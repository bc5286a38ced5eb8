# The two commands the README opens with, and a few more.
.PHONY: run test test-fast lint bench setup

setup:
	@bash scripts/bootstrap.sh

# Set up, then simulate the default scenario (Shanghai, 2020-01..2027-12).
run: setup
	.venv/bin/clustersim-run $(ARGS)

# Set up, then lint and run the whole test suite (what CI runs), one worker per core.
test: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/python -m pytest -q -n auto $(PYTEST_ARGS)

# Everyday subset: everything not marked slow (no default-world runs, sweeps, notebooks).
test-fast: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/python -m pytest -q -n auto -m "not slow" $(PYTEST_ARGS)

bench: setup
	.venv/bin/python benchmarks/run_bench.py
