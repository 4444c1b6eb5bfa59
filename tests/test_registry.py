"""The check registry is the one place points live; every check is bound to exactly one test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autograder.spec.registry import CHECKS, CHECKS_BY_ID, EXERCISES, checks_for, exercise_points
from autograder.spec.settings import load_settings

CHECK_MODULES = Path(__file__).resolve().parents[1] / "autograder" / "grading" / "judge" / "checks"


def test_totals_match_the_assignment():
    assert {e: exercise_points(e) for e in EXERCISES} == {
        "easy": 20,
        "medium": 40,
        "hard": 40,
        "challenge": 10,
    }


def test_ids_unique_and_prefixed_by_exercise():
    assert len(CHECKS_BY_ID) == len(CHECKS)
    for check in CHECKS:
        assert check.id.startswith(check.exercise + ".")
        assert check.points > 0 and check.hint and check.title
        assert set(check.tags) <= {"gpu", "manual", "timing"}


def test_manual_checks_carry_a_rubric_and_gpu_checks_are_hard():
    manual = [c for c in CHECKS if c.manual]
    assert {c.id for c in manual} == {"easy.answer", "hard.explanation"}
    assert all(len(c.rubric) >= 3 for c in manual)
    assert {c.exercise for c in CHECKS if c.gpu} == {"hard"}
    assert sum(c.points for c in CHECKS if c.gpu) == 14


def bound_ids(exercise: str) -> list[str]:
    """Ids passed to @check(...) in the exercise's check module, read from its source."""
    tree = ast.parse((CHECK_MODULES / f"test_{exercise}.py").read_text())
    ids = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and getattr(decorator.func, "id", None) == "check"
                ):
                    ids.append(decorator.args[0].value)
    return ids


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_every_check_bound_exactly_once(exercise):
    ids = bound_ids(exercise)
    assert sorted(ids) == sorted(c.id for c in checks_for(exercise))
    assert len(ids) == len(set(ids))


def test_unknown_exercise_is_an_error():
    with pytest.raises(KeyError):
        checks_for("impossible")


def test_settings_load_per_device_and_reject_unknown_keys(tmp_path):
    settings = load_settings()
    assert settings.limits.memory_mib == 4096
    assert settings.tolerances_for("cuda:0") is settings.tolerances["cuda"]
    assert settings.tolerances_for("cpu").reduction_ratio_max > 1
    bad = tmp_path / "bad.toml"
    bad.write_text("[limits]\nmemory_mb = 10\n")
    with pytest.raises(ValueError, match="memory_mb"):
        load_settings(bad)
    bad.write_text("[tolerance.cpu]\n")
    with pytest.raises(ValueError, match="unknown section"):
        load_settings(bad)


def test_override_file_changes_only_its_keys(tmp_path):
    packaged = load_settings()
    override = tmp_path / "slow-runner.toml"
    override.write_text("[limits]\ntimeout_scale = 2.0\n[tolerances.cuda]\nrnn_slope_max = 1.4\n")
    settings = load_settings(override)
    assert settings.limits.timeout_scale == 2.0
    assert settings.limits.memory_mib == packaged.limits.memory_mib
    assert settings.tolerances["cuda"].rnn_slope_max == 1.4
    assert settings.tolerances["cpu"] == packaged.tolerances["cpu"]
