PYTHON ?= python3

.PHONY: install example test bench

# Install PostgreSQL (when missing) and fraisec with its dev extras.
install:
	bash .ci/install

# The main job: compile the bundled example (writes examples/saas/build/).
example: install
	cd examples/saas && fraisec compile

# The whole test suite, against a real PostgreSQL the suite starts itself.
test:
	$(PYTHON) -m pytest

# Benchmarks print figures; they are not tests.
bench:
	$(PYTHON) bench/rls_bench.py
	$(PYTHON) bench/diff_bench.py
	$(PYTHON) bench/lint_speed.py
	$(PYTHON) bench/migrations_bench.py
	$(PYTHON) bench/loop_bench.py
