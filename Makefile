# Two commands do all the set-up: `make grade` and `make test`.
# make grade installs what grading needs; make test adds the instructors' and developers' tools
# (the [dev] extra: nbgrader, Jupyter, ruff, zizmor, check-jsonschema, ...).
# The virtual environment is created when missing; each install runs again only when
# pyproject.toml changes. Options:
#   PYTHON=/path/to/python3.11  the interpreter for .venv (default: python3.11, then python3
#                               if it is 3.11 or newer; tools/find-python)
#   TORCH=cuda                  the CUDA build of torch (2.7 GB) even without CUDA here;
#   TORCH=cpu                   the CPU wheel (192 MB) even with CUDA here; default auto:
#                               CPU wheel unless CUDA is present, and pip's own package
#                               sources (index, find-links, PIP_* variables) are always
#                               used as they are (tools/torch_source.py)
PYTHON ?=
TORCH ?= auto
DEVICE ?= auto
VENV := .venv
PY := $(VENV)/bin/python
GRADE_STAMP := $(VENV)/.grade-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: grade test lint workflows stubs release bench mutate clean help setup setup-dev

help:
	@echo "make grade   set up, grade exercises/ and print the report"
	@echo "make test    set up with the [dev] tools, lint and run the whole test suite"
	@echo "make stubs   regenerate exercises/ from solutions/"
	@echo "make bench   grading benchmarks, written to docs/benchmarks.md"
	@echo "make mutate  mutation testing of the decision modules (docs/testing.md)"
	@echo "options: PYTHON=/path/to/python3.11  TORCH=auto|cpu|cuda  DEVICE=auto|cpu|cuda"

$(PY):
	@python=$$(PYTHON='$(PYTHON)' sh tools/find-python) || exit 1; \
	echo "creating $(VENV) with $$python"; \
	"$$python" -m venv $(VENV)

# pip's own output shows the progress (torch's wheel is the long part).
define pip_install
	@options=$$($(PY) tools/torch_source.py '$(TORCH)') || exit 1; \
	echo "$(PY) -m pip install" $$options "$(1)"; \
	$(PY) -m pip install $$options $(1)
endef

$(GRADE_STAMP): pyproject.toml | $(PY)
	$(call pip_install,-e .)
	@touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(call pip_install,-e '.[dev]')
	@touch $@ $(GRADE_STAMP)

setup: $(GRADE_STAMP)

setup-dev: $(DEV_STAMP)

grade: $(GRADE_STAMP)
	$(PY) -m autograder grade --submission exercises --device $(DEVICE)

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

WORKFLOWS := $(wildcard .github/workflows/*.yml)

workflows: $(DEV_STAMP)
	$(VENV)/bin/zizmor --offline --min-severity medium $(WORKFLOWS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)

# The suite runs on every core, at most TEST_PROCESSES (pytest-xdist): most of its time is spent
# waiting on gradings' subprocesses, and gradings in parallel take turns for each timed window
# through the machine-wide device lease, so their timings stay clean.
TEST_PROCESSES ?= 4

test: lint workflows
	@if [ -d tests ]; then $(PY) -m pytest -n auto --maxprocesses=$(TEST_PROCESSES) --durations=25; \
	else echo "no tests/ here (a student repository): run make grade"; fi

stubs: $(DEV_STAMP)
	$(PY) -m autograder stubs

release: $(DEV_STAMP)
	$(PY) -m autograder release --out release

bench: $(DEV_STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) outputs/grading release

# Mutation testing of the grader's decision modules (cosmic-ray, docs/testing.md): minutes
# per module, a benchmark-style run, not part of `make test`. Results in outputs/mutation/.
mutate: $(DEV_STAMP)
	nice -n 19 $(PY) -m benchmarks.mutate
