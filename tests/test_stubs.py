"""exercises/ is exactly what autograder.course.release.stubs generates from solutions/, and
leaks nothing.

A stub edited by hand, a solution line that survives into a stub, or a stub whose signatures
drift from its solution fails here. The marker errors of ``render_stub`` are tested on small
inline sources.
"""

from __future__ import annotations

import importlib.util
import inspect
import keyword
import re
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import pytest

from autograder import cli
from autograder.course.release.stubs import (
    WRITTEN_ANSWER_NAMES,
    find_regions,
    generate_stubs,
    render_stub,
)
from autograder.spec.registry import CHECKS


def main(argv: list[str]) -> int:
    """``python -m autograder stubs ARGV``, in this process."""
    return cli.main(["stubs", *argv])


ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
MODULES = sorted(path.stem for path in SOLUTIONS.glob("*.py") if not path.name.startswith("_"))
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def load(path: Path) -> ModuleType:
    """Import a module by path, as the grader loads a submission."""
    spec = importlib.util.spec_from_file_location(f"{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution_source(name: str) -> str:
    return (SOLUTIONS / f"{name}.py").read_text(encoding="utf-8")


def is_trivial(line: str) -> bool:
    """A solution line too generic to give anything away: fewer than two identifiers.

    Keywords are not identifiers here, so ``return out``, ``else:``, ``h = []`` and ``)`` are
    trivial while ``h = 0.9 * h + x`` and ``return xs.mean()`` are not.
    """
    names = [word for word in _IDENTIFIER.findall(line) if not keyword.iskeyword(word)]
    return len(names) < 2


def call_with_placeholders(function) -> None:
    """Call ``function`` with None for every required argument (the stub raises first)."""
    args, kwargs = [], {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = None
        elif parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            args.append(None)
    function(*args, **kwargs)


def test_the_four_exercises_are_there() -> None:
    assert MODULES == [
        "challenge_linear_recurrence",
        "easy_vector_state",
        "hard_gpu_sweep",
        "medium_parallel_scan",
    ]


def test_exercises_are_in_sync_with_solutions() -> None:
    out_of_sync = generate_stubs(solutions_dir=SOLUTIONS, exercises_dir=EXERCISES, check=True)
    assert out_of_sync == [], "exercises/ was edited by hand: run `python -m autograder stubs`"


def test_check_mode_reports_a_hand_edit_and_writes_nothing(tmp_path: Path) -> None:
    written = generate_stubs(solutions_dir=SOLUTIONS, exercises_dir=tmp_path)
    assert sorted(path.name for path in written) == [f"{name}.py" for name in MODULES]
    assert generate_stubs(solutions_dir=SOLUTIONS, exercises_dir=tmp_path) == []  # idempotent

    edited = tmp_path / "medium_parallel_scan.py"
    edited.write_text(edited.read_text() + "# a hand edit\n")
    assert generate_stubs(solutions_dir=SOLUTIONS, exercises_dir=tmp_path, check=True) == [edited]
    assert edited.read_text().endswith("# a hand edit\n")
    assert main(["--check", "--solutions", str(SOLUTIONS), "--exercises", str(tmp_path)]) == 1
    assert main(["--solutions", str(SOLUTIONS), "--exercises", str(tmp_path)]) == 0
    assert main(["--check", "--solutions", str(SOLUTIONS), "--exercises", str(tmp_path)]) == 0


@pytest.mark.parametrize("name", MODULES)
def test_stub_starts_with_the_generated_header(name: str) -> None:
    header = (EXERCISES / f"{name}.py").read_text(encoding="utf-8").split('"""', 1)[0]
    assert header.startswith("# GENERATED FILE")
    assert f"solutions/{name}.py" in header
    assert "python -m autograder stubs" in header


@pytest.mark.parametrize("name", MODULES)
def test_unimplemented_functions_raise_naming_module_and_function(name: str) -> None:
    stub = load(EXERCISES / f"{name}.py")
    functions = {region.function for region in find_regions(solution_source(name))} - {None}
    assert functions, f"{name} has no function to implement"
    exercise = name.split("_", 1)[0]
    for function_name in sorted(functions):
        with pytest.raises(NotImplementedError) as raised:
            call_with_placeholders(getattr(stub, function_name))
        message = str(raised.value)
        assert f"{name}.{function_name}" in message
        assert f"exercise: {exercise}" in message


# the module and name of each TA-graded written answer (the registry's manual checks)
WRITTEN_ANSWERS = {"easy_vector_state": "ANSWER", "hard_gpu_sweep": "EXPLANATION"}


def test_every_written_answer_is_listed() -> None:
    manual = [check for check in CHECKS if check.manual]
    assert len(manual) == len(WRITTEN_ANSWERS)
    assert {check.title.split(":")[0] for check in manual} == set(WRITTEN_ANSWERS.values())
    assert set(WRITTEN_ANSWERS.values()) <= set(WRITTEN_ANSWER_NAMES)
    for name in MODULES:
        names = WRITTEN_ANSWER_NAMES & set(vars(load(SOLUTIONS / f"{name}.py")))
        assert names == ({WRITTEN_ANSWERS[name]} if name in WRITTEN_ANSWERS else set()), name


@pytest.mark.parametrize(("name", "answer"), sorted(WRITTEN_ANSWERS.items()))
def test_written_answers_are_empty_in_the_stub(name: str, answer: str) -> None:
    solution, stub = load(SOLUTIONS / f"{name}.py"), load(EXERCISES / f"{name}.py")
    assert getattr(solution, answer).strip(), f"the solution's {answer} is empty"
    assert getattr(stub, answer) == ""


@pytest.mark.parametrize("name", MODULES)
def test_no_solution_line_survives_in_the_stub(name: str) -> None:
    stub_lines = {line.strip() for line in (EXERCISES / f"{name}.py").read_text().splitlines()}
    leaked = [
        (region.begin + offset + 1, line.strip())
        for region in find_regions(solution_source(name))
        for offset, line in enumerate(region.lines, start=1)
        if not is_trivial(line) and line.strip() in stub_lines
    ]
    assert leaked == [], f"solution lines found in exercises/{name}.py: {leaked}"


@pytest.mark.parametrize("name", MODULES)
def test_stub_keeps_public_names_signatures_docstrings_and_constants(name: str) -> None:
    solution, stub = load(SOLUTIONS / f"{name}.py"), load(EXERCISES / f"{name}.py")
    assert inspect.getdoc(stub) == inspect.getdoc(solution)
    public = {key for key in vars(solution) if not key.startswith("_")}
    assert public == {key for key in vars(stub) if not key.startswith("_")}
    for key in sorted(public - WRITTEN_ANSWER_NAMES):
        ours, theirs = getattr(solution, key), getattr(stub, key)
        if inspect.isfunction(ours) and ours.__module__ == solution.__name__:
            assert inspect.signature(theirs) == inspect.signature(ours), key
            assert inspect.getdoc(theirs) == inspect.getdoc(ours), key
        elif isinstance(ours, TypeVar):
            assert repr(theirs) == repr(ours), key  # a TypeVar is created anew by each import
        elif not (inspect.ismodule(ours) or callable(ours)):
            assert theirs == ours, key  # constants such as SWEEP_LENGTHS
        else:
            assert theirs is ours, key  # the same imported object


# ---------------------------------------------------------------- render_stub on small sources

GOOD = '''\
"""A module."""


def double(x: int) -> int:
    """Twice x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


### BEGIN SOLUTION
ANSWER = "because"
### END SOLUTION
'''


def test_render_stub_replaces_code_and_answer_regions() -> None:
    stub = render_stub(GOOD, module_name="easy_demo")
    assert "2 * x" not in stub and "because" not in stub
    assert "    # YOUR CODE HERE\n" in stub
    expected = "easy_demo.double is not implemented yet (exercise: easy)"
    assert f'    raise NotImplementedError("{expected}")\n' in stub
    assert "# YOUR ANSWER HERE: replace the empty string" in stub
    assert stub.endswith('\nANSWER = ""\n')
    assert '"""Twice x."""' in stub and "def double(x: int) -> int:" in stub


def test_render_stub_keeps_an_annotated_answer_annotated() -> None:
    source = '### BEGIN SOLUTION\nEXPLANATION: str = "why"\n### END SOLUTION\n'
    assert render_stub(source, module_name="hard_demo").endswith('\nEXPLANATION: str = ""\n')


@pytest.mark.parametrize(
    ("source", "line", "complaint"),
    [
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", 2, "without a matching"),
        ("def f():\n    return 1\n    ### END SOLUTION\n", 3, "without a BEGIN"),
        (
            "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n"
            "    ### END SOLUTION\n    ### END SOLUTION\n",
            3,
            "nested",
        ),
        ("def f():\n    ## BEGIN SOLUTION\n    return 1\n", 2, "looks like a solution marker"),
        ("def f():\n    return 1  ### BEGIN SOLUTION\n", 2, "alone on its line"),
    ],
    ids=["begin-without-end", "end-without-begin", "nested", "misspelt", "inline"],
)
def test_render_stub_rejects_bad_markers(source: str, line: int, complaint: str) -> None:
    with pytest.raises(ValueError, match=f"line {line}.*{complaint}"):
        render_stub(source, module_name="medium_demo")


@pytest.mark.parametrize(
    "region",
    [
        "HELPER = 42",  # not a written answer
        'ANSWER = "a"\nEXPLANATION = "b"',  # two statements
        "ANSWER = 42",  # not a string
        "def helper():\n    return 1",  # code at module level would leak
    ],
    ids=["other-name", "two-answers", "not-a-string", "module-level-def"],
)
def test_render_stub_rejects_other_module_level_regions(region: str) -> None:
    source = f'"""Doc."""\n\n### BEGIN SOLUTION\n{region}\n### END SOLUTION\n'
    with pytest.raises(ValueError, match=r"line 3.*outside a function body"):
        render_stub(source, module_name="easy_demo")


def test_render_stub_rejects_a_region_cutting_a_statement() -> None:
    source = "def f():\n    ### BEGIN SOLUTION\n    x = 1\n\n\ny = 2\n    ### END SOLUTION\n"
    with pytest.raises(ValueError, match=r"line 6.*whole statements"):
        render_stub(source, module_name="easy_demo")


def test_marker_text_inside_a_string_is_not_a_marker() -> None:
    source = 'def f():\n    """Write code where ### BEGIN SOLUTION was."""\n    return 1\n'
    assert render_stub(source, module_name="easy_demo").endswith(source)
