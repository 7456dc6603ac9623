# The interpreter fraisec is installed into: .venv's when .ci/install made one (a system Python
# that is externally managed, PEP 668), else python3. Expanded when used, so that a venv made
# by `install` is picked up by the targets that run after it.
PYTHON ?= $(shell if [ -x .venv/bin/python ]; then echo .venv/bin/python; else echo python3; fi)
# PYTHON as a command that still works after `cd` (a relative path made absolute).
RUN_PYTHON = $(if $(filter /%,$(PYTHON)),$(PYTHON),$(if $(findstring /,$(PYTHON)),$(abspath $(PYTHON)),$(PYTHON)))
# Touched by a successful install: `make example` installs once, and again only when
# pyproject.toml or .ci/install change (or `make install`).
STAMP := build/.installed-stamp

.PHONY: install example test bench conformance

# Install PostgreSQL (when missing) and fraisec with its dev extras.
install:
	bash .ci/install
	@mkdir -p $(dir $(STAMP)) && touch $(STAMP)

$(STAMP): pyproject.toml .ci/install
	bash .ci/install
	@mkdir -p $(dir $(STAMP)) && touch $(STAMP)

# The main job: compile the bundled example (writes examples/saas/build/).
example: $(STAMP)
	cd examples/saas && $(RUN_PYTHON) -m fraisec compile
	@echo
	@echo "Done: examples/saas/build/ holds schema.json, schema.sql and fraiseql.toml. Next:"
	@echo "  make test                  # the test suite (about 12 minutes)"
	@echo "  cd examples/saas && $(PYTHON_HINT)fraisec validate"
	@echo "  mkdir /tmp/myapi && cd /tmp/myapi && $(PYTHON_HINT)fraisec init && $(PYTHON_HINT)fraisec compile"
	@echo "  $(PYTHON_HINT)fraisec explain FSC104   # any diagnostic's page"

# How to run the fraisec script in the next steps: through the venv when there is one.
PYTHON_HINT = $(if $(wildcard .venv/bin/fraisec),$(abspath .venv/bin)/,)

# The whole test suite, against a real PostgreSQL the suite starts itself (about 12 minutes).
test:
	$(PYTHON) -m pytest

# Benchmarks print figures; they are not tests.
bench:
	$(PYTHON) bench/rls_bench.py
	$(PYTHON) bench/diff_bench.py
	$(PYTHON) bench/lint_speed.py
	$(PYTHON) bench/migrations_bench.py
	$(PYTHON) bench/loop_bench.py

# The whole pg-delta and migra corpora through the independent checker (about half an hour;
# CI runs a slice: tests/diff/test_pgdelta_slice.py).
conformance:
	$(PYTHON) tests/corpus/check_diff_corpus.py --tool "$(PYTHON) -m fraisec diff" --script \
		--privileges --cases tests/corpus/pgdelta
	$(PYTHON) tests/corpus/check_diff_corpus.py --tool "$(PYTHON) -m fraisec diff" --script \
		--privileges --cases tests/corpus/migra
