# The two commands the README opens with, and a few more.
.PHONY: run test test-fast lint bench setup

setup:
	@bash scripts/bootstrap.sh

# Set up, then simulate the default scenario (Shanghai, 2020-01..2027-12).
run: setup
	.venv/bin/clustersim-run $(ARGS)

# One worker per core; each test module goes to one worker (its module fixtures are made
# once), the longest modules first, in the order tests/conftest.py gives them.
XDIST = -n auto --no-loadscope-reorder

# The tests keep Python's bytecode caches (__pycache__/, ignored by git) even where the
# environment turns them off (PYTHONDONTWRITEBYTECODE=1): otherwise each xdist worker
# rewrites every test module's assertions (~2.5 CPU-s) and every command, notebook kernel
# and pool worker the tests start compiles clustersim again. Empty means unset to Python.
test test-fast: export PYTHONDONTWRITEBYTECODE =

# Set up, then lint and run the whole test suite (what CI runs).
test: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/python -m pytest -q $(XDIST) $(PYTEST_ARGS)

# Everyday subset: everything not marked slow (no default-world runs, sweeps, notebooks);
# property tests draw a quarter of the random cases make test draws (tests/conftest.py).
test-fast: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/python -m pytest -q $(XDIST) -m "not slow" --hypothesis-profile=everyday $(PYTEST_ARGS)

bench: setup
	.venv/bin/python benchmarks/run_bench.py
