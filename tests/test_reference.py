"""The lesson's worked code: its functions' values, the timing and depth tables, the CLI.

Timing tests check shape and sign only (no absolute wall-clock assertion); the depth table is
exact. The CLI is run in a subprocess for exit status and streams, in-process for the plot.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from reference.__main__ import main
from reference.lesson import attention_style, rnn_style, tree_mean
from reference.table import (
    DEFAULT_SIZES,
    depth_table,
    format_depth_table,
    format_timing_table,
    plot_table,
    timing_table,
)

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_NAMES = ("rnn", "attention", "tree")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m reference ARGS`` from the repository root, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "reference", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


# ------------------------------------------------------------------ the lesson's functions


@pytest.mark.parametrize("n", [0, 1, 2, 5, 100, 1000])
def test_rnn_style_matches_closed_form(n: int) -> None:
    """h = 0.9 h + x from h = 0 unrolls to sum_t 0.9^(N-1-t) x_t."""
    rng = random.Random(n)
    xs = [rng.uniform(-1, 1) for _ in range(n)]
    expected = math.fsum(0.9 ** (n - 1 - t) * x for t, x in enumerate(xs))
    assert rnn_style(xs) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_rnn_style_on_ones_is_a_geometric_series() -> None:
    assert rnn_style([1.0] * 50) == pytest.approx((1 - 0.9**50) / (1 - 0.9), rel=1e-12)
    assert rnn_style([]) == 0.0


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
def test_attention_style_is_the_mean(n: int) -> None:
    rng = random.Random(n)
    xs = [rng.uniform(-10, 10) for _ in range(n)]
    assert attention_style(xs) == pytest.approx(math.fsum(xs) / n, rel=1e-12, abs=1e-12)


def test_attention_style_on_empty_input_divides_by_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        attention_style([])


@pytest.mark.parametrize("n", range(1, 21))
def test_tree_mean_equals_the_mean(n: int) -> None:
    assert tree_mean(list(range(n))) == (n - 1) / 2  # exact: small integers
    rng = random.Random(n)
    xs = [rng.uniform(-10, 10) for _ in range(n)]
    assert tree_mean(xs) == pytest.approx(math.fsum(xs) / n, rel=1e-12, abs=1e-12)


def test_tree_mean_accepts_any_sequence_and_leaves_it_unchanged() -> None:
    xs = (4.0, 1.0, 7.0)
    assert tree_mean(xs) == 4.0
    assert xs == (4.0, 1.0, 7.0)


@pytest.mark.parametrize("empty", [[], ()])
def test_tree_mean_of_empty_raises(empty: list | tuple) -> None:
    with pytest.raises(ValueError, match="empty"):
        tree_mean(empty)


# ------------------------------------------------------------------ timing table


def test_timing_table_rows_keys_and_positive_numbers() -> None:
    progress_lines: list[str] = []
    rows = timing_table([3, 20], repeats=3, warmup=1, progress=progress_lines.append)
    assert [row["n"] for row in rows] == [3, 20]
    expected_keys = {"n", "calls_per_sample", "repeats", "rnn_over_attention"}
    for name in FUNCTION_NAMES:
        expected_keys |= {f"{name}_seconds", f"{name}_ns_per_element"}
    for row in rows:
        assert set(row) == expected_keys
        assert row["repeats"] == 3
        assert row["calls_per_sample"] >= 1
        for name in FUNCTION_NAMES:
            assert row[f"{name}_seconds"] > 0
            assert row[f"{name}_ns_per_element"] == pytest.approx(
                row[f"{name}_seconds"] / row["n"] * 1e9
            )
        assert row["rnn_over_attention"] == pytest.approx(
            row["rnn_seconds"] / row["attention_seconds"]
        )
    assert len(progress_lines) == 2
    assert "n=3" in progress_lines[0] and "n=20" in progress_lines[1]


@pytest.mark.parametrize(
    "kwargs", [{"lengths": [0]}, {"lengths": [5], "repeats": 0}, {"lengths": [5], "warmup": -1}]
)
def test_timing_table_rejects_bad_settings(kwargs: dict) -> None:
    lengths = kwargs.pop("lengths")
    with pytest.raises(ValueError):
        timing_table(lengths, **{"repeats": 1, "warmup": 0, **kwargs})


def test_format_timing_table_lists_every_length() -> None:
    rows = timing_table([10, 100], repeats=1, warmup=0)
    text = format_timing_table(rows)
    assert "rnn_style" in text and "attention_style" in text and "tree_mean" in text
    assert "rnn/attention" in text
    data_lines = [line for line in text.splitlines() if line.strip().split(" ")[0] in {"10", "100"}]
    assert len(data_lines) == 2


# ------------------------------------------------------------------ depth table


def test_depth_table_numbers_are_exact() -> None:
    rows = depth_table([64, 512, 4096])
    by_key = {(row["n"], row["function"]): row for row in rows}
    assert len(rows) == 9
    for n, log in [(64, 6), (512, 9), (4096, 12)]:
        rnn = by_key[n, "rnn_style"]
        attention = by_key[n, "attention_style"]
        tree = by_key[n, "tree_mean"]
        assert (rnn["work"], rnn["depth"], rnn["lesson_depth"]) == (2 * n - 1, 2 * n - 1, n)
        assert (attention["work"], attention["depth"]) == (n + 1, n + 1)
        assert attention["lesson_depth"] == log
        assert (tree["work"], tree["depth"], tree["lesson_depth"]) == (n, log + 1, log)
        assert rnn["lesson_formula"] == "N"
        assert attention["lesson_formula"] == tree["lesson_formula"] == "ceil(log2 N)"


def test_depth_table_on_non_powers_of_two() -> None:
    rows = {row["function"]: row for row in depth_table([1000])}
    assert rows["tree_mean"]["depth"] == 10 + 1  # ceil(log2 1000) = 10
    assert rows["tree_mean"]["lesson_depth"] == 10
    assert rows["attention_style"]["depth"] == 1001


def test_depth_table_rejects_non_positive_sizes() -> None:
    with pytest.raises(ValueError):
        depth_table([0])


def test_format_depth_table_shows_formula_and_note() -> None:
    text = format_depth_table(depth_table([64]))
    assert "N = 64" in text and "ceil(log2 N) = 6" in text
    assert "left fold" in text and "N+1" in text
    assert "tree" in text and "log N" in text


# ------------------------------------------------------------------ plot


def test_plot_table_is_log_log_with_one_line_per_function(tmp_path: Path) -> None:
    rows = timing_table([10, 100, 1000], repeats=1, warmup=0)
    path = tmp_path / "deeper" / "still" / "timing.png"
    figure = plot_table(rows, path)
    assert isinstance(figure, Figure)
    assert path.read_bytes().startswith(b"\x89PNG")
    (axes,) = figure.axes
    assert axes.get_xscale() == "log" and axes.get_yscale() == "log"
    assert axes.get_xlabel() and axes.get_ylabel()
    lines = axes.get_lines()
    assert [line.get_label() for line in lines] == ["rnn_style", "attention_style", "tree_mean"]
    for line in lines:
        assert list(line.get_xdata()) == [10, 100, 1000]
    legend = axes.get_legend()
    assert legend is not None
    assert [text.get_text() for text in legend.get_texts()] == [
        "rnn_style",
        "attention_style",
        "tree_mean",
    ]


# ------------------------------------------------------------------ command line


def test_cli_prints_both_tables_and_progress_on_stderr() -> None:
    result = run_cli("--lengths", "10,100", "--repeats", "3")
    assert result.returncode == 0, result.stderr
    assert "Steps 1 and 3, timed" in result.stdout
    assert "Step 2, measured" in result.stdout
    for n in DEFAULT_SIZES:
        assert f"{n:,}" in result.stdout
    assert "left fold" in result.stdout
    timed = [line for line in result.stderr.splitlines() if line.startswith("timed ")]
    assert len(timed) == 2  # one progress line per length
    assert timed[0].startswith("timed n=10 ") and timed[1].startswith("timed n=100 ")


def test_cli_json_is_parseable_and_stdout_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lengths", "10", "--repeats", "1", "--sizes", "8,16", "--json"]) == 0
    captured = capsys.readouterr()
    tables = json.loads(captured.out)
    assert [row["n"] for row in tables["timing"]] == [10]
    assert {(row["n"], row["function"]) for row in tables["depth"]} == {
        (n, fn) for n in (8, 16) for fn in ("rnn_style", "attention_style", "tree_mean")
    }
    assert "timed n=10" in captured.err


def test_cli_plot_writes_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plots" / "timing.png"
    assert main(["--lengths", "10,100", "--repeats", "1", "--sizes", "8", "--plot", str(path)]) == 0
    assert path.read_bytes().startswith(b"\x89PNG")
    assert str(path) in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--lengths", "abc"],
        ["--lengths", "10,,100"],
        ["--lengths", ""],
        ["--lengths", "0"],
        ["--lengths", "-5"],
        ["--lengths", "1.5"],
        ["--lengths", "100000000000"],
        ["--repeats", "0"],
        ["--repeats", "x"],
        ["--sizes", "0"],
        ["--plot", "timing.txt"],
        ["--unknown"],
    ],
    ids=lambda args: " ".join(args) or "empty",
)
def test_cli_bad_input_one_line_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("python -m reference: error: ")


def test_cli_plot_path_that_is_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "a_dir.png"
    directory.mkdir()
    assert main(["--lengths", "10", "--plot", str(directory)]) == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith("is a directory")


def test_cli_bad_input_in_a_subprocess() -> None:
    result = run_cli("--lengths", "ten")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "'ten' is not a whole number" in result.stderr


def test_cli_unwritable_plot_path_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("")
    path = blocker / "timing.png"
    assert main(["--lengths", "10", "--repeats", "1", "--sizes", "8", "--plot", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines()[-1].startswith("python -m reference: error: cannot write")
    assert len([line for line in captured.err.splitlines() if "error" in line]) == 1
