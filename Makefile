PYTHON ?= python3

.PHONY: install example test bench conformance

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

# The whole pg-delta and migra corpora through the independent checker (about half an hour;
# CI runs a slice: tests/diff/test_pgdelta_slice.py).
conformance:
	$(PYTHON) tests/corpus/check_diff_corpus.py --tool "$(PYTHON) -m fraisec diff" --script \
		--privileges --cases tests/corpus/pgdelta
	$(PYTHON) tests/corpus/check_diff_corpus.py --tool "$(PYTHON) -m fraisec diff" --script \
		--privileges --cases tests/corpus/migra
