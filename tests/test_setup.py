"""The Makefile's set-up decisions, checked offline: which Python, which torch build.

``tools/find-python`` is run against fake interpreters; ``tools/torch_source.py`` is fed fake
pip configurations; and the Makefile's install recipe is run with a stand-in for the virtual
environment's python that records the pip command instead of installing anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import torch_source  # noqa: E402  (tools/ is a folder of scripts, not a package)

FIND_PYTHON = ROOT / "tools" / "find-python"
CPU = ("--extra-index-url", torch_source.CPU_INDEX)
# This machine's `pip config list`, as CI sees it: a wheel folder and two local indexes.
THIS_MACHINE = """\
:env:.default-timeout='180'
:env:.find-links='/opt/wheels'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/opt/wheels'
"""


def clean_environ() -> dict[str, str]:
    """This process's environment without pip's settings, and no pip config file read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip then reads no configuration file at all
    return env


# --------------------------------------------------------------------------- find-python


def fake_python(folder: Path, name: str, version: tuple[int, int]) -> Path:
    """A stand-in interpreter that answers the version check as that version would."""
    path = folder / name
    ok = 0 if version >= (3, 11) else 1
    path.write_text(f"#!/bin/sh\nexit {ok}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def find_python(candidates: str, python: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON_CANDIDATES": candidates, "PYTHON": python}
    return subprocess.run(
        ["sh", str(FIND_PYTHON)], env=env, capture_output=True, text=True, check=False
    )


def test_find_python_prefers_python311_then_a_new_enough_python3(tmp_path: Path) -> None:
    py311 = fake_python(tmp_path, "python3.11", (3, 11))
    py3 = fake_python(tmp_path, "python3", (3, 12))
    both = find_python(f"{py311} {py3}")
    assert both.returncode == 0 and both.stdout.strip() == str(py311)
    no_311 = find_python(f"{tmp_path / 'missing3.11'} {py3}")
    assert no_311.returncode == 0 and no_311.stdout.strip() == str(py3)


def test_find_python_fails_with_one_line_naming_the_fix(tmp_path: Path) -> None:
    old = fake_python(tmp_path, "python3", (3, 10))
    done = find_python(f"{tmp_path / 'missing3.11'} {old}")
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Python >= 3.11" in done.stderr and "make PYTHON=" in done.stderr


def test_find_python_checks_an_explicit_python_too(tmp_path: Path) -> None:
    good = fake_python(tmp_path, "mypython", (3, 13))
    old = fake_python(tmp_path, "oldpython", (3, 9))
    assert find_python("python3.11 python3", python=str(good)).stdout.strip() == str(good)
    refused = find_python("python3.11 python3", python=str(old))
    assert refused.returncode == 1 and f"PYTHON={old} is not" in refused.stderr


def test_find_python_accepts_this_interpreter() -> None:
    done = find_python("python3.11 python3", python=sys.executable)
    assert done.returncode == 0 and Path(done.stdout.strip()).samefile(sys.executable)


# --------------------------------------------------------------------------- the torch build


def decide(choice: str = "auto", **overrides: object) -> torch_source.Decision:
    arguments: dict[str, object] = {
        "pip_config": "",
        "environ": {},
        "system": "Linux",
        "has_cuda": False,
    }
    arguments.update(overrides)
    return torch_source.decide(choice, **arguments)  # type: ignore[arg-type]


def test_a_plain_linux_machine_without_cuda_gets_the_cpu_wheel() -> None:
    assert decide().options == CPU
    assert decide(pip_config="global.timeout='60'\nglobal.cert='/x.pem'\n").options == CPU


@pytest.mark.parametrize(
    "pip_config, environ",
    [
        (THIS_MACHINE, {}),
        ("global.index-url='https://mirror.example/simple'\n", {}),
        ("install.extra-index-url='https://mirror.example/simple'\n", {}),
        ("global.no-index='true'\n", {}),
        ("", {"PIP_INDEX_URL": "https://mirror.example/simple"}),
        ("", {"PIP_EXTRA_INDEX_URL": "file:///srv/pypi"}),
        ("", {"PIP_FIND_LINKS": "/opt/wheels"}),
        ("", {"PIP_NO_INDEX": "1"}),
    ],
)
def test_pips_own_package_sources_are_used_as_they_are(
    pip_config: str, environ: dict[str, str]
) -> None:
    """CI and these machines reach only their configured sources: nothing may be added."""
    for choice in ("auto", "cpu"):
        decision = decide(choice, pip_config=pip_config, environ=environ)
        assert decision.options == (), (choice, decision)
        assert "pip's own package sources" in decision.reason


def test_cuda_present_or_asked_for_gets_the_default_build_and_cpu_can_be_forced() -> None:
    assert decide(has_cuda=True).options == ()
    assert decide("cuda").options == ()
    assert decide("cpu", has_cuda=True).options == CPU
    assert decide(system="Darwin").options == ()
    assert decide(system="Windows").options == ()
    with pytest.raises(ValueError, match="TORCH='gpu'"):
        decide("gpu")


def test_the_script_reads_pips_real_configuration(tmp_path: Path) -> None:
    """Through `pip config list` of this interpreter (offline): a config file with an index
    is honoured, no configuration at all gets the CPU index."""
    script = str(ROOT / "tools" / "torch_source.py")
    env = {**clean_environ(), "TORCH": "cpu"}
    bare = subprocess.run(
        [sys.executable, script], env=env, capture_output=True, text=True, check=True
    )
    assert bare.stdout.split() == list(CPU), bare.stderr
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = https://mirror.example/simple\n", encoding="utf-8")
    mirrored = subprocess.run(
        [sys.executable, script],
        env={**env, "PIP_CONFIG_FILE": str(config)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert mirrored.stdout.strip() == "" and "mirror.example" in mirrored.stderr


# --------------------------------------------------------------------------- the Makefile


def recording_python(folder: Path, log: Path) -> Path:
    """Stands in for .venv/bin/python: runs tools/ scripts for real, records pip commands."""
    path = folder / "python"
    path.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then\n'
        f'  printf "%s\\n" "$@" > "{log}"; exit 0\n'
        "fi\n"
        f'exec "{sys.executable}" "$@"\n',
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def make_setup(tmp_path: Path, target: str, env: dict[str, str], *variables: str) -> list[str]:
    """Run `make TARGET` with the recording python; the pip command it would have run."""
    venv, log = tmp_path / "venv", tmp_path / "pip-args"
    venv.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    python = recording_python(tmp_path, log)
    done = subprocess.run(
        ["make", "--no-print-directory", target, f"PY={python}", f"VENV={venv}", *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return log.read_text(encoding="utf-8").splitlines()


def test_make_grade_installs_only_the_package_with_the_cpu_wheel_and_shows_progress(
    tmp_path: Path,
) -> None:
    assert make_setup(tmp_path, "setup", clean_environ()) == [
        "-m",
        "pip",
        "install",
        *CPU,
        "-e",
        ".",
    ]
    dev = make_setup(tmp_path, "setup-dev", clean_environ())
    assert dev == ["-m", "pip", "install", *CPU, "-e", ".[dev]"]
    cuda = make_setup(tmp_path / "cuda", "setup", clean_environ(), "TORCH=cuda")
    assert cuda == ["-m", "pip", "install", "-e", "."]


def test_make_keeps_pips_configured_sources(tmp_path: Path) -> None:
    env = {**clean_environ(), "PIP_FIND_LINKS": "/opt/wheels"}
    assert make_setup(tmp_path, "setup", env) == ["-m", "pip", "install", "-e", "."]


def test_grading_dependencies_leave_the_course_and_developer_tools_to_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {
        requirement.split(";")[0].split("=")[0].split(">")[0].strip().lower()
        for requirement in project["dependencies"]
    }
    instructor_only = {"nbgrader", "ipykernel", "copydetect", "jupyter", "ruff", "zizmor"}
    assert not names & instructor_only
    assert {"torch", "numpy", "pytest", "jinja2", "defusedxml", "matplotlib"} <= names
    extras = project["optional-dependencies"]
    assert {"nbgrader>=0.9", "ipykernel>=6.0"} <= set(extras["course"])
    assert "why-transformers-exercises[course]" in extras["dev"]


def test_a_course_command_without_the_course_tools_names_the_extra(tmp_path: Path) -> None:
    """make grade leaves nbgrader/nbformat out: release then says how to add them."""
    script = (
        "import sys; sys.modules['nbformat'] = None\n"  # as if not installed
        "from autograder import cli\n"
        f"sys.exit(cli.main(['release', '--out', {str(tmp_path / 'out')!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "python -m autograder release: error: needs the course tools (nbformat is not "
        "installed): pip install -e '.[course]' (make test installs them too)"
    ]
    assert not (tmp_path / "out").exists()
