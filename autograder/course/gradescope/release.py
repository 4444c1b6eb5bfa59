"""``release --gradescope``: Gradescope's ``autograder.zip`` and the manual questions' rubric.

Writes ``DIR/gradescope/``:

* ``autograder.zip``, Gradescope's contract: ``setup.sh`` and ``run_autograder`` (executable)
  at the zip's root, beside the grader's source: ``autograder/``, ``reference/``,
  ``pyproject.toml``, a README and ``requirements-gradescope.txt``. Gradescope unpacks the zip
  into ``/autograder/source``, so the zip's root *is* the grader's source folder there. No
  solutions, no tests, no exercises: a submission's code can read this folder.
* ``manual-questions.md``: one Gradescope manual question per written answer (title, points,
  rubric items from the registry's ``Check.rubric``) and the GPU checks Gradescope cannot
  grade.

``requirements-gradescope.txt`` pins every package the grader imports (``pyproject.toml``'s
dependencies but the notebook-only ones, and everything they need) to the version installed
where the release is built, so Gradescope's image grades with what was tested. torch is not
in it: ``setup.sh`` installs the CPU build from PyTorch's index without its dependencies,
which the file pins.
"""

from __future__ import annotations

import fnmatch
import io
import shutil
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.course.gradescope.run import GRADING_USER
from autograder.spec import paths
from autograder.spec.registry import EXERCISES, EXTRA_CREDIT, checks_for

__all__ = [
    "GRADESCOPE",
    "GradescopeSummary",
    "manual_questions",
    "pinned_requirements",
    "write_gradescope",
]

GRADESCOPE = "gradescope"
ZIP_NAME = "autograder.zip"
SETUP_SCRIPT = "setup.sh"  # at the zip's root (SPEC), executable
RUN_SCRIPT = "run_autograder"  # at the zip's root (SPEC), executable
SOURCE_FOLDERS = ("autograder", "reference")
NOT_COPIED = ("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints")
NOTEBOOK_ONLY = frozenset({"nbgrader", "ipykernel"})  # not imported by the grade command
SEPARATE = frozenset({"torch"})  # setup.sh installs it from PyTorch's CPU index
NEVER_PINNED = ("nvidia-", "triton")  # a CUDA build's dependencies: not on a CPU image
EXECUTABLE = 0o100755
REGULAR = 0o100644
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed: the same source gives the same zip
# Gradescope's default image: the grader's requirements are evaluated for it.
TARGET = {"python_version": "3.11", "sys_platform": "linux", "platform_system": "Linux"}


@dataclass(frozen=True)
class GradescopeSummary:
    """What ``write_gradescope`` wrote, for the command line and the tests."""

    zip_path: Path
    questions_path: Path
    members: tuple[str, ...]
    generated: tuple[str, ...]  # members written by the release, not copied from the source
    automatic_points: float  # graded on Gradescope, extra credit excluded
    extra_credit_points: float
    manual_points: float
    gpu_points: float
    warnings: tuple[str, ...] = ()


def write_gradescope(*, out: Path, source_root: Path) -> GradescopeSummary:
    """Write ``out/gradescope/autograder.zip`` and ``manual-questions.md``; see the module doc."""
    folder = Path(out) / GRADESCOPE
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    torch_pin, requirements, warnings = pinned_requirements(Path(source_root) / paths.PYPROJECT)
    generated = {
        SETUP_SCRIPT: _template("gradescope-setup.sh")
        .replace("@TORCH_VERSION@", torch_pin)
        .replace("@GRADING_USER@", GRADING_USER),
        RUN_SCRIPT: _template("gradescope-run_autograder"),
        "requirements-gradescope.txt": _requirements_text(requirements),
        paths.README: _template("gradescope-README.md"),
    }
    members: dict[str, bytes] = {name: text.encode("utf-8") for name, text in generated.items()}
    for name in SOURCE_FOLDERS:
        for path in sorted((Path(source_root) / name).rglob("*")):
            relative = path.relative_to(source_root)
            if path.is_file() and not _ignored(relative):
                members[relative.as_posix()] = path.read_bytes()
    members[paths.PYPROJECT] = (Path(source_root) / paths.PYPROJECT).read_bytes()
    zip_path = folder / ZIP_NAME
    zip_path.write_bytes(_zip_bytes(members))
    questions = folder / "manual-questions.md"
    questions.write_text(manual_questions(), encoding="utf-8")
    auto = extra = manual = gpu = 0.0
    for exercise in EXERCISES:
        for check in checks_for(exercise):
            if check.gpu:
                gpu += check.points
            elif check.manual:
                manual += check.points
            elif exercise in EXTRA_CREDIT:
                extra += check.points
            else:
                auto += check.points
    return GradescopeSummary(
        zip_path=zip_path,
        questions_path=questions,
        members=tuple(sorted(members)),
        generated=tuple(sorted(generated)),
        automatic_points=auto,
        extra_credit_points=extra,
        manual_points=manual,
        gpu_points=gpu,
        warnings=tuple(warnings),
    )


def pinned_requirements(pyproject: Path) -> tuple[str, list[str], list[str]]:
    """(torch's version, ``name==version`` of every other package, warnings).

    Walks the installed metadata from ``pyproject.toml``'s dependencies, evaluating markers
    for Gradescope's image (Linux, Python 3.11). A package not installed here cannot be
    pinned: its requirement is kept as written, with a warning.
    """
    project = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))["project"]
    environment = {**default_environment(), **TARGET, "extra": ""}
    pins: dict[str, str] = {}
    unpinned: dict[str, str] = {}
    warnings: list[str] = []
    torch_pin = ""
    pending = [Requirement(text) for text in project["dependencies"]]
    pending = [r for r in pending if canonicalize_name(r.name) not in NOTEBOOK_ONLY]
    for requirement in pending:
        if canonicalize_name(requirement.name) == "torch":
            torch_pin = _exact_version(requirement)
    seen: set[str] = set()
    while pending:
        requirement = pending.pop(0)
        name = canonicalize_name(requirement.name)
        if name in seen or name.startswith(NEVER_PINNED):
            continue
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        seen.add(name)
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            unpinned[name] = str(requirement).split(";")[0].strip()
            warnings.append(f"{requirement.name} is not installed here: not pinned on Gradescope")
            continue
        version = distribution.version.split("+")[0]  # 2.13.0+cpu -> 2.13.0
        if name in SEPARATE:
            torch_pin = torch_pin or version
        else:
            pins[name] = f"{name}=={version}"
        pending.extend(Requirement(text) for text in distribution.requires or [])
    if not torch_pin:
        raise ValueError(f"{pyproject}: no torch==VERSION among the dependencies")
    return torch_pin, sorted([*pins.values(), *unpinned.values()]), warnings


def manual_questions() -> str:
    """The Gradescope manual questions (one per written answer), rubric from the registry."""
    lines = [
        "# Gradescope: manual questions of the Why Transformers assignment",
        "",
        "Written by `python -m autograder release --gradescope` from "
        "`autograder/spec/registry.py`.",
        "Add one question per written answer to the programming assignment (Edit Outline),",
        "worth the points below, with the rubric items below. The TA reads the answer in the",
        "submitted module (Gradescope's code view) and applies the rubric; the autograder",
        "never scores these.",
        "",
    ]
    number = 0
    for exercise, module in EXERCISES.items():
        for check in checks_for(exercise):
            if not check.manual or check.gpu:
                continue
            number += 1
            name = check.title.split(":", 1)[0]
            lines += [
                f"## {number}. {check.title} ({check.points:g} points)",
                "",
                f"Check `{check.id}`. The answer: the string `{name}` in `{module}.py`.",
                f"Student hint: {check.hint}",
                "",
                "Rubric (each item a share of the points):",
                "",
                *(f"- {item}" for item in check.rubric),
                "",
            ]
    gpu = [c for e in EXERCISES for c in checks_for(e) if c.gpu]
    lines += [
        "## Not graded on Gradescope: the GPU checks",
        "",
        f"Gradescope has no GPU: these {sum(c.points for c in gpu):g} points are graded on the",
        "course's GPU runner (docs/gpu-runner.md) or not at all. They are not autograder tests",
        "on Gradescope; students see them listed as not graded there.",
        "",
        *(f"- `{c.id}` ({c.points:g} points): {c.title}" for c in gpu),
        "",
    ]
    return "\n".join(lines)


def _exact_version(requirement: Requirement) -> str:
    exact = [spec.version for spec in requirement.specifier if spec.operator == "=="]
    return exact[0] if exact else ""


def _requirements_text(requirements: list[str]) -> str:
    header = [
        "# Written by `python -m autograder release --gradescope`: the versions installed where",
        "# the release was built (Python "
        f"{sys.version_info.major}.{sys.version_info.minor}). torch is installed separately by",
        "# setup.sh, from PyTorch's CPU index.",
    ]
    return "\n".join([*header, *requirements]) + "\n"


def _template(name: str) -> str:
    return resources.files("autograder").joinpath("templates", name).read_text(encoding="utf-8")


def _ignored(relative: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in NOT_COPIED)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip with fixed dates and Unix modes: setup.sh and run_autograder executable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix: Gradescope's unzip reads the mode bits
            mode = EXECUTABLE if name in (SETUP_SCRIPT, RUN_SCRIPT) else REGULAR
            info.external_attr = mode << 16
            archive.writestr(info, members[name])
    return buffer.getvalue()
