# Two commands do all the set-up: `make grade` and `make test`.
# The virtual environment is created when missing and refreshed only when pyproject.toml changes.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEVICE ?= auto

.PHONY: grade test lint workflows stubs release bench clean help

help:
	@echo "make grade   set up, grade exercises/ and print the report"
	@echo "make test    set up, lint and run the whole test suite"
	@echo "make stubs   regenerate exercises/ from solutions/"
	@echo "make bench   grading benchmarks, written to docs/benchmarks.md"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

.venv: $(STAMP)

grade: .venv
	$(PY) -m autograder grade --submission exercises --device $(DEVICE)

lint: .venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

WORKFLOWS := $(wildcard .github/workflows/*.yml)

workflows: .venv
	$(VENV)/bin/zizmor --offline --min-severity medium $(WORKFLOWS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)

test: lint workflows
	@if [ -d tests ]; then $(PY) -m pytest; \
	else echo "no tests/ here (a student repository): run make grade"; fi

stubs: .venv
	$(PY) -m autograder stubs

release: .venv
	$(PY) -m autograder release --out release

bench: .venv
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) outputs/grading release

# Mutation testing of the grader's decision modules (cosmic-ray, docs/testing.md): minutes
# per module, a benchmark-style run, not part of `make test`. Results in outputs/mutation/.
.PHONY: mutate
mutate: .venv
	nice -n 19 $(PY) -m benchmarks.mutate
