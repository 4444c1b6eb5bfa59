"""Build the submissions the bench grades, the way tests/test_grader_adversarial.py does.

A case is the reference solution with some definitions overridden: each file under
``tests/submissions/<case>/`` named like an exercise module is appended to the solution
module of the same name (later definitions win), other files are copied beside them. The
bench grades these exactly as the adversarial tests do, so both measure the same code.

``PROBES`` are overrides kept here rather than under tests/submissions/: wrong
implementations that sit just beyond a tolerance the project's cases do not reach (a numpy
version that is not vectorised, a "pure-Python" version that is, a recurrence that is not
serial, a reduction built from many small ones). They exist to measure the far side of
those bounds, so calibration has both sides.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.spec import paths
from autograder.spec.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
CASES_DIR = ROOT / "tests" / "submissions"
SOLUTIONS_DIR = ROOT / paths.SOLUTIONS_FOLDER
MODULES = frozenset(f"{module}.py" for module in EXERCISES.values())

PROBES: dict[str, dict[str, str]] = {
    # one Python step per element, through lists: growth with d like the pure-Python version
    "numpy_via_lists": {
        "easy_vector_state.py": (
            "def rnn_style_vector_numpy(xs):\n    return np.array(rnn_style_vector(xs.tolist()))\n"
        )
    },
    # the "pure-Python" version handing the work to numpy: only the list conversion grows with d
    "python_via_numpy": {
        "easy_vector_state.py": (
            "def rnn_style_vector(xs):\n"
            "    if len(xs) == 0:\n"
            "        raise ValueError('empty')\n"
            "    return rnn_style_vector_numpy(np.asarray(xs, dtype=np.float64)).tolist()\n"
        )
    },
    # a pairwise tree of tensor additions driven from Python: log-depth, but log n launches
    # instead of one library reduction (the nearest wrong answer to reduction_ratio_max)
    "reduction_python_tree": {
        "hard_gpu_sweep.py": (
            "def attention_style_torch(xs):\n"
            "    n = xs.numel()\n"
            "    level = xs\n"
            "    while level.numel() > 1:\n"
            "        if level.numel() % 2:\n"
            "            level = torch.cat([level, level.new_zeros(1)])\n"
            "        level = level[0::2] + level[1::2]\n"
            "    return level[0] / n\n"
        )
    },
    # the recurrence in closed form, sum of 0.9**(n-1-t) * x_t: right value, no serial steps
    "rnn_closed_form": {
        "hard_gpu_sweep.py": (
            "def rnn_style_torch(xs):\n"
            "    n = xs.numel()\n"
            "    powers = 0.9 ** torch.arange(n - 1, -1, -1, dtype=torch.float64, "
            "device=xs.device)\n"
            "    return (powers * xs.double()).sum().to(xs.dtype)\n"
        )
    },
}


def _overrides(case: str) -> dict[str, str | Path]:
    """File name -> override (source text for a probe, a path for a tests/submissions case)."""
    if case in PROBES:
        return dict(PROBES[case])
    case_dir = CASES_DIR / case
    if not case_dir.is_dir():
        raise ValueError(f"no such submission case: {case_dir}")
    return {path.name: path for path in sorted(case_dir.iterdir()) if path.is_file()}


def build_submission(case: str, destination: Path, *, base: Path = SOLUTIONS_DIR) -> Path:
    """The base modules, with each override file appended and other files copied as they are."""
    overrides = _overrides(case)
    origin = "benchmarks/submissions.py PROBES" if case in PROBES else "tests/submissions"
    destination.mkdir(parents=True)
    for module in sorted(MODULES):
        shutil.copyfile(base / module, destination / module)
    for name, override in overrides.items():
        if name in MODULES:
            text = override if isinstance(override, str) else override.read_text(encoding="utf-8")
            with (destination / name).open("a", encoding="utf-8") as module:
                module.write(f"\n\n# ---- override from {origin}: {case} ----\n")
                module.write(text)
        elif isinstance(override, Path):
            shutil.copyfile(override, destination / name)
    return destination
