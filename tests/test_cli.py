"""The command layer: every command and option SPEC.md fixes parses as SPEC says, the options
several commands share are one definition, and every usage error is one line and exit 2."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from autograder import cli
from autograder.arguments import add_gradescope_arguments
from reference.cli_support import OneLineParser, UsageError


def parse(*argv: str) -> argparse.Namespace:
    return cli.parser_for(argv[0]).parse_args(list(argv))


def test_grade_parses_every_spec_option_with_its_default() -> None:
    """SPEC's grade line, with the defaults it names (submission exercises, device auto,
    sandbox auto, results outputs/grading/results.json)."""
    default = parse("grade")
    assert default.submission == Path("exercises") and default.device == "auto"
    assert default.sandbox == "auto" and default.only is None and not default.gpu_only
    assert default.results == Path("outputs/grading/results.json")
    assert (default.junit, default.summary, default.fail_under) == (None, None, None)
    args = parse(
        "grade",
        *("--submission", "sub", "--device", "cuda", "--only", "easy", "hard", "--gpu-only"),
        *("--results", "r.json", "--junit", "j.xml", "--summary", "s.md"),
        *("--fail-under", "60", "--sandbox", "bubblewrap"),
    )
    assert (args.submission, args.device, args.only) == (Path("sub"), "cuda", ["easy", "hard"])
    assert args.gpu_only and args.results == Path("r.json") and args.junit == Path("j.xml")
    assert (args.summary, args.fail_under, args.sandbox) == (Path("s.md"), 60.0, "bubblewrap")


def test_class_commands_parse_as_spec_writes_them() -> None:
    regrade = parse(
        "regrade",
        *("a", "b", "--out", "o", "--jobs", "3", "--device", "cpu", "--sandbox", "none"),
        *("--manifest", "m.json", "--shard", "2/4", "--force"),
    )
    assert regrade.sources == [Path("a"), Path("b")] and regrade.out == Path("o")
    assert (regrade.jobs, regrade.device, regrade.sandbox) == (3, "cpu", "none")
    assert (regrade.manifest, regrade.shard, regrade.force) == (Path("m.json"), "2/4", True)
    assert parse("regrade", "a", "--out", "o").sandbox is None  # grade's own default
    collect = parse(
        "collect",
        *("d1", "d2", "--out", "o", "--manual", "m.csv", "--similarity"),
        *("--roster", "r.csv", "--feedback", "f"),
    )
    assert collect.inputs == [Path("d1"), Path("d2")] and collect.out == Path("o")
    assert (collect.manual, collect.roster, collect.feedback) == (
        Path("m.csv"),
        Path("r.csv"),
        Path("f"),
    )
    assert collect.similarity
    release = parse("release", "--out", "rel", "--gradescope")
    assert release.out == Path("rel") and release.gradescope


@pytest.mark.parametrize("command", ["grade", "regrade", "nbgrader-regrade"])
def test_a_shared_option_is_one_definition(command: str) -> None:
    """--sandbox takes the same choices wherever it is taken; an unknown one is refused by
    the parser, naming the command."""
    base = {"grade": [], "regrade": ["a", "--out", "o"], "nbgrader-regrade": []}[command]
    for kind in ("auto", "bubblewrap", "none"):
        assert parse(command, *base, "--sandbox", kind).sandbox == kind
    with pytest.raises(UsageError, match="invalid choice: 'docker'") as refused:
        parse(command, *base, "--sandbox", "docker")
    assert refused.value.prog == f"python -m autograder {command}"


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    return captured.err


def test_usage_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parser's (an unknown option, a bad choice) and a command's own (an unknown
    exercise, a folder that is not there), all printed by main the same way."""
    assert one_line_error(capsys, ["grade", "--nope"]).startswith(
        "python -m autograder grade: error: unrecognized arguments: --nope"
    )
    assert one_line_error(capsys, ["regrade", "a", "--out", "o", "--device", "tpu"]).startswith(
        "python -m autograder regrade: error: argument --device: invalid choice: 'tpu'"
    )
    err = one_line_error(capsys, ["grade", "--submission", str(tmp_path), "--only", "nope"])
    assert err.startswith("python -m autograder grade: error: unknown exercise nope")
    err = one_line_error(capsys, ["collect", str(tmp_path / "missing")])
    assert err.startswith("python -m autograder collect: error: not a folder: ")
    err = one_line_error(capsys, ["stubs", "--solutions", str(tmp_path / "missing")])
    assert err.startswith("python -m autograder stubs: error: no such directory: ")
    err = one_line_error(capsys, ["merge", str(tmp_path / "missing.json"), "--out", "o.json"])
    assert err.startswith("python -m autograder merge: error: ")
    monkeypatch.delenv("AUTOGRADER_COURSE_KEY", raising=False)
    monkeypatch.delenv("AUTOGRADER_COURSE_KEY_FILE", raising=False)
    err = one_line_error(capsys, ["sign", str(tmp_path / "results.json")])
    assert err.startswith("python -m autograder sign: error: no course key: set $")
    assert one_line_error(capsys, ["nope"]).startswith("python -m autograder: error: unknown")


def test_a_usage_error_quoting_a_file_is_neutralised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report of a results file whose name carries a terminal escape: one line, no ESC."""
    hostile = tmp_path / "r\x1b[2Jesults.json"
    hostile.write_text("{not json", encoding="utf-8")
    err = one_line_error(capsys, ["report", str(hostile)])
    assert err.startswith("python -m autograder report: error: ") and "\x1b" not in err


def gradescope_parse(*argv: str) -> argparse.Namespace:
    parser = OneLineParser(prog="python -m autograder.course.gradescope")
    add_gradescope_arguments(parser)
    return parser.parse_args(list(argv))


def test_the_gradescope_entry_point_takes_what_run_autograder_passes() -> None:
    """run_autograder's call (--root, --python, then its own arguments: --only, --settings)
    and the by-hand conversion, ``results IN OUT`` (gradescope-results's arguments)."""
    args = gradescope_parse(
        *("run", "--root", "/ag", "--python", "/ag/venv/bin/python"),
        *("--only", "easy", "--settings", "fast.toml", "--sandbox", "none"),
    )
    assert (args.root, args.python, args.only) == (
        Path("/ag"),
        Path("/ag/venv/bin/python"),
        ["easy"],
    )
    assert (args.settings, args.sandbox, args.budget) == (Path("fast.toml"), "none", 540.0)
    assert gradescope_parse("run").root is None  # $AUTOGRADER_ROOT, else /autograder, at run
    converted = gradescope_parse("results", "in.json", "out.json")
    assert (converted.input, converted.output) == (Path("in.json"), Path("out.json"))
    assert vars(parse("gradescope-results", "in.json", "out.json")) == {
        "command": "gradescope-results",
        "input": Path("in.json"),
        "output": Path("out.json"),
    }


def test_the_gradescope_entry_point_refuses_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.gradescope_main(["run", "--only"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("python -m autograder.course.gradescope run: error: argument --only")
