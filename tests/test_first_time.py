"""A new instructor's first release, walked offline from the README's own commands.

The README's "Distribute as a GitHub template repository" block runs as written in a release
built by ``python -m autograder release``, with ``git`` for real and a stand-in ``gh`` that
keeps GitHub's side in files: each repository a bare git repository, its visibility and
template flag, and the organisation variables in ``github/state.json`` (standing in for
GitHub's settings). Then the student workflow of the pushed template runs, through
tests/workflow_runner.py, for the template's own push (nothing to grade) and for the first
push of a student repository created from the template (graded at once, GPU checks pending
without a GPU runner). What only GitHub can check is listed in docs/release.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_workflows import GPU_IDS, readme_release_commands
from workflow_runner import WorkflowRunner

from autograder.spec.registry import CHECKS

ROOT = Path(__file__).resolve().parent.parent
ORG = "course"
TEMPLATE = f"{ORG}/why-transformers"
STUDENT = f"{ORG}/why-transformers-alice"

FAKE_GH = r'''#!PYTHON
"""gh, as far as the README uses it: repositories and variables kept in files."""
import json, os, subprocess, sys
from pathlib import Path

home = Path(os.environ["FAKE_GITHUB"])
state_file = home / "state.json"
state = json.loads(state_file.read_text()) if state_file.exists() else {"repos": {}, "vars": {}}
args = sys.argv[1:]

def option(name, default=None):
    return args[args.index(name) + 1] if name in args else default

if args[:2] == ["repo", "create"]:
    name = args[2]
    visibility = [f[2:] for f in ("--public", "--private", "--internal") if f in args]
    if len(visibility) != 1:
        sys.exit("gh repo create: choose one of --public, --private, --internal")
    bare = home / f"{name}.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    state["repos"][name] = {"visibility": visibility[0], "is_template": False, "path": str(bare)}
    source = option("--source")
    if source:
        remote = option("--remote", "origin")
        subprocess.run(["git", "-C", source, "remote", "add", remote, str(bare)], check=True)
        if "--push" in args:
            subprocess.run(["git", "-C", source, "push", "-q", remote, "HEAD"], check=True)
elif args[:2] == ["repo", "edit"]:
    if args[2] not in state["repos"]:
        sys.exit(f"gh repo edit: no repository {args[2]}")
    if "--template" in args:
        state["repos"][args[2]]["is_template"] = True
elif args[:2] == ["variable", "set"]:
    if option("--org") is None or option("--body") is None:
        sys.exit("gh variable set: this stand-in knows --org ORG --body VALUE")
    state["vars"][args[2]] = option("--body")
else:
    sys.exit(f"gh stand-in: unsupported command {args}")
state_file.write_text(json.dumps(state, indent=1))
'''


def git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Instructor",
        "GIT_AUTHOR_EMAIL": "instructor@example.org",
        "GIT_COMMITTER_NAME": "Instructor",
        "GIT_COMMITTER_EMAIL": "instructor@example.org",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def walk_the_readme(base: Path) -> dict[str, Any]:
    """Release, then the README's commands with ORG = course; GitHub's state afterwards."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "release",
            "--out",
            str(base / "release"),
            "--no-nbgrader",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    bin_dir, github = base / "bin", base / "github"
    bin_dir.mkdir()
    github.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.replace("PYTHON", sys.executable, 1), encoding="utf-8")
    gh.chmod(0o755)
    script = "\n".join(line.replace("ORG", ORG) for line in readme_release_commands())
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_GITHUB": str(github),
        "GIT_AUTHOR_NAME": "Instructor",
        "GIT_AUTHOR_EMAIL": "instructor@example.org",
        "GIT_COMMITTER_NAME": "Instructor",
        "GIT_COMMITTER_EMAIL": "instructor@example.org",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{script}\n{done.stdout}{done.stderr}"
    return json.loads((github / "state.json").read_text(encoding="utf-8"))


def use_this_template(template_clone: Path, target: Path) -> Path:
    """GitHub's "Use this template": a new repository whose one commit holds the files."""
    shutil.copytree(template_clone, target, ignore=shutil.ignore_patterns(".git"))
    git("init", "-q", "-b", "main", cwd=target)
    git("add", "-A", cwd=target)
    git("commit", "-q", "-m", "Initial commit", cwd=target)
    return target


@pytest.mark.slow
def test_a_new_instructor_gets_a_template_whose_first_student_push_is_graded(
    tmp_path: Path,
) -> None:
    state = walk_the_readme(tmp_path)

    # GitHub's side after the README: a public template repository holding the pushed release,
    # and the two variables naming exactly that commit.
    template = state["repos"][TEMPLATE]
    assert template == {**template, "visibility": "public", "is_template": True}
    clone = tmp_path / "template-clone"
    git("clone", "-q", template["path"], str(clone), cwd=tmp_path)
    variables = state["vars"]
    assert variables["GRADER_REPOSITORY"] == TEMPLATE
    assert variables["GRADER_REF"] == git("rev-parse", "HEAD", cwd=clone)
    assert (clone / ".release-manifest.json").is_file() and not (clone / "solutions").exists()
    workflow = clone / ".github" / "workflows" / "grade.yml"

    # The template's own push: nothing to grade, and nothing fails.
    runner = WorkflowRunner(
        workflow,
        root=tmp_path / "template-run",
        repositories={TEMPLATE: clone},
        default_repository=TEMPLATE,
        vars=variables,
        is_template=True,
    )
    job = runner.run_job("template")
    assert job.result == "success" and "nothing to grade" in job.summary, job.describe()
    assert runner.run_job("cpu").result == "skipped"
    assert runner.run_job("gpu").result == "skipped"

    # A student's repository from the template, first push: graded at once on CPU, no GPU
    # runner yet (GPU_GRADING unset), so the final grade comes without waiting for one.
    student = use_this_template(clone, tmp_path / "alice")
    runner = WorkflowRunner(
        workflow,
        root=tmp_path / "student-run",
        repositories={STUDENT: student, TEMPLATE: clone},
        default_repository=STUDENT,
        vars=variables,
    )
    assert runner.run_job("template").result == "skipped"
    cpu = runner.run_job("cpu")
    assert cpu.result == "success", cpu.describe()
    gpu = runner.run_job("gpu")
    assert gpu.result == "skipped"
    report = runner.run_job("report", needs={"cpu": cpu.result, "gpu": gpu.result})
    assert report.result == "failure", report.describe()  # 0 points: below the pass mark
    assert report.failed_step is not None and report.failed_step.id == "pass-mark"
    assert "No GPU grading in this run" in report.summary
    final = json.loads(
        (report.workspace / "results" / "final" / "results.json").read_text(encoding="utf-8")
    )
    assert [t["id"] for t in final["tests"]] == [c.id for c in CHECKS]
    assert final["score"] == 0
    assert {t["status"] for t in final["tests"] if t["id"] in GPU_IDS} == {"pending"}
    integrity = final["extra_data"]["integrity"]
    assert integrity["tamper"] == [] and integrity["manifest_source"] == "instructor"
