"""Mutation testing of the grader's decision modules with cosmic-ray (``make mutate``).

Each target is one small module and the fast tests that must notice any change to it.
cosmic-ray edits the module in place for every mutant, so the run happens in a copy of
this checkout (tracked and untracked files, ``.venv`` linked), never in the checkout
itself, and each target's session is kept under ``outputs/mutation/`` with a summary.
Surviving mutants are triaged in docs/testing.md. Not part of ``make test``: a run costs
minutes per module.

    python -m benchmarks.mutate [TARGET ...]     # every target when none is named
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "outputs" / "mutation"
PYTEST = "python -m pytest -x -q -p no:cacheprovider -p no:randomly"


@dataclass(frozen=True)
class Target:
    module: str  # the file cosmic-ray mutates
    tests: str  # pytest arguments: the fast tests that guard it


TARGETS = {
    "compare": Target("autograder/grading/checks/compare.py", "tests/test_compare.py"),
    "results_build": Target(
        "autograder/results/build.py",
        "tests/test_results_build.py tests/test_merge.py -m 'not slow'",
    ),
}


def _copy_checkout(destination: Path) -> None:
    """Tracked and untracked (not ignored) files, as the device tool and CI see them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    (destination / ".venv").symlink_to((ROOT / ".venv").resolve())


def _config(target: Target, python: str) -> str:
    command = f"{python} {PYTEST.removeprefix('python ')} {target.tests}"
    return (
        "[cosmic-ray]\n"
        f'module-path = "{target.module}"\n'
        "timeout = 120.0\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )


def run_target(name: str, target: Target, cosmic_ray: Path) -> str:
    """Run one target's mutants in a fresh copy; return cosmic-ray's report."""
    OUT.mkdir(parents=True, exist_ok=True)
    session = OUT / f"{name}.sqlite"
    session.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="mutate-") as folder:
        tree = Path(folder)
        _copy_checkout(tree)
        config = tree / "cosmic-ray.toml"
        config.write_text(_config(target, str(tree / ".venv" / "bin" / "python")))
        for step in (["init", str(config), str(session)], ["exec", str(config), str(session)]):
            subprocess.run([str(cosmic_ray / "cosmic-ray"), *step], cwd=tree, check=True)
    report = subprocess.run(
        [str(cosmic_ray / "cr-report"), "--show-pending", str(session)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (OUT / f"{name}.txt").write_text(report, encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mutate", description=__doc__)
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=", ".join(TARGETS))
    parser.add_argument(
        "--bin",
        type=Path,
        default=Path(sys.executable).parent,
        help="folder of the cosmic-ray and cr-report commands (default: this Python's)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {', '.join(TARGETS)}")
    for name in args.targets or list(TARGETS):
        report = run_target(name, TARGETS[name], args.bin)
        print(f"== {name}: {TARGETS[name].module}\n{report.splitlines()[-3:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
