# The two commands the README opens with, and a few more.
.PHONY: run test lint bench setup

setup:
	@bash scripts/bootstrap.sh

# Set up, then simulate the default scenario (Shanghai, 2020-01..2027-12).
run: setup
	.venv/bin/clustersim-run $(ARGS)

# Set up, then lint and run the whole test suite.
test: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/python -m pytest -q $(PYTEST_ARGS)

bench: setup
	.venv/bin/python benchmarks/run_bench.py
