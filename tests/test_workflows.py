"""The GitHub Actions workflows, checked here without GitHub.

Three layers: the security audit (zizmor, offline) and the workflow schema
(check-jsonschema's vendored copy) over every workflow; the rules the student workflow must
keep by construction (triggers, permissions, pins, the pristine grader, the GPU job's CUDA
check), read from the YAML; and the workflows' own shell steps run locally by
tests/workflow_runner.py in a student repository built like the real release.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from workflow_runner import JobResult, WorkflowError, WorkflowRunner

from autograder.spec.registry import CHECKS, EXERCISES

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
GRADE = WORKFLOWS / "grade.yml"
INSTRUCTOR = WORKFLOWS / "instructor.yml"
REGRADE = WORKFLOWS / "regrade.yml"
SECRETS_ALLOWED = {"regrade.yml": [" secrets.CLASSROOM_TOKEN ", " secrets.AUTOGRADER_COURSE_KEY "]}
"""The secrets any workflow may use: regrade.yml's clone token and course key (see its own
tests below)."""
BIN = Path(sys.executable).parent
STUDENT_REPO = "course-student/why-transformers-alice"
GRADER_REPO = "course/why-transformers"
GRADER_SHA = "0123456789abcdef0123456789abcdef01234567"
GPU_IDS = {check.id for check in CHECKS if check.gpu}
PIN = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+(?:\.\d+)*\s*$")
SANDBOX_FLAG = " --sandbox bubblewrap"


# Text replaced in the workflows' commands for the local runs: none (they run as written).
LOCAL_REPLACE: dict[str, str] = {}


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """``on:`` (PyYAML reads the bare key as the boolean True)."""
    value = workflow.get("on", workflow.get(True))
    return {value: None} if isinstance(value, str) else dict(value)


def all_workflows() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


# --------------------------------------------------------------------------- audit and schema


def test_every_workflow_we_ship_is_here() -> None:
    assert {p.name for p in all_workflows()} >= {"grade.yml", "instructor.yml"}


def zizmor(*paths: Path) -> tuple[int, list[dict[str, Any]], str]:
    done = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(done.stdout) if done.stdout.strip() else []
    return done.returncode, findings, done.stderr


def test_zizmor_reports_nothing_of_medium_severity_or_more() -> None:
    returncode, findings, stderr = zizmor(*all_workflows())
    serious = [
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}"
        for f in findings
        if f["determinations"]["severity"] in ("Medium", "High")
    ]
    assert not serious, "\n".join(serious)
    assert returncode in (0, 11, 12), stderr  # 11/12: informational/low findings only


def test_zizmor_audit_works_offline_on_a_dangerous_workflow(tmp_path: Path) -> None:
    """Guards the test above: an empty list must mean 'clean', not 'the audit did not run'."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request_target\n"
        "jobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n',
        encoding="utf-8",
    )
    returncode, findings, _ = zizmor(bad)
    idents = {f["ident"] for f in findings}
    assert {"dangerous-triggers", "template-injection", "unpinned-uses"} <= idents
    assert returncode != 0


@pytest.mark.parametrize("workflow", all_workflows(), ids=lambda p: p.name)
def test_workflow_matches_the_vendored_github_schema(workflow: Path) -> None:
    done = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflow),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- rules by construction


@pytest.mark.parametrize("workflow", all_workflows(), ids=lambda p: p.name)
def test_actions_are_pinned_to_full_shas_with_their_version(workflow: Path) -> None:
    lines = [line for line in workflow.read_text().splitlines() if "uses:" in line]
    assert lines
    unpinned = [line.strip() for line in lines if not PIN.match(line)]
    assert not unpinned, f"pin to a 40-hex SHA with '# vX.Y.Z': {unpinned}"


@pytest.mark.parametrize("workflow", all_workflows(), ids=lambda p: p.name)
def test_least_privilege_and_no_expression_in_any_shell(workflow: Path) -> None:
    data = load(workflow)
    assert data["permissions"] == {"contents": "read"}
    assert "pull_request_target" not in triggers(data)
    expressions = re.findall(r"\$\{\{(.*?)\}\}", workflow.read_text(), re.S)
    secret = [e for e in expressions if "secrets" in e or "token" in e]
    assert secret == SECRETS_ALLOWED.get(workflow.name, []), "no secrets used"
    for job_id, job in data["jobs"].items():
        assert "timeout-minutes" in job, job_id
        assert job.get("permissions", {"contents": "read"}) == {"contents": "read"}, job_id
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{job_id}: use env:, not ${{{{ }}}}"
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, job_id


def test_regrade_workflow_keeps_its_token_in_one_step_that_runs_no_student_code() -> None:
    data = load(REGRADE)
    assert set(triggers(data)) == {"workflow_dispatch", "schedule"}
    assert "env" not in data or "CLASSROOM_TOKEN" not in str(data["env"])
    holders = [
        (job_id, step.get("name"))
        for job_id, job in data["jobs"].items()
        for step in job["steps"]
        if "secrets." in str(step.get("env", {})) or "secrets." in str(step.get("with", {}))
    ]
    assert holders == [
        ("clone", "Clone the student repositories"),
        ("collect", "Merge GPU into CPU results, then collect"),  # the course key: signs
    ]
    clone = data["jobs"]["clone"]
    assert clone["environment"] == "regrade" and "secrets." not in str(clone.get("env", {}))
    step = next(s for s in clone["steps"] if s.get("name") == holders[0][1])
    assert step["env"] == {
        "CLASSROOM_TOKEN": "${{ secrets.CLASSROOM_TOKEN }}",
        "STUDENTS_FILE": "${{ inputs.students || 'students.txt' }}",
        "EVENT": "${{ github.event_name }}",
        "GIT_TERMINAL_PROMPT": "0",
    }
    script = step["run"]
    assert "::add-mask::" in script and "GIT_CONFIG_VALUE_0" in script
    assert not re.search(r"echo[^\n]*\$\{?CLASSROOM_TOKEN", script), "never printed"
    assert not re.search(r"git [^\n]*(-c |config )", script), "never on a command line or on disk"
    assert "unset CLASSROOM_TOKEN" in script
    commands = re.findall(r"python -m autograder \w+", json.dumps(clone))
    assert set(commands) == {"python -m autograder fetch"}, "no grading here: fetch only"


def test_regrade_workflow_signs_only_where_no_student_code_runs() -> None:
    jobs = load(REGRADE)["jobs"]
    for job_id in ("cpu", "gpu"):  # the jobs that run student code hold no secret
        assert "secrets." not in json.dumps(jobs[job_id]), job_id
        assert jobs[job_id].get("environment") is None, job_id
    step = next(s for s in jobs["collect"]["steps"] if "secrets." in str(s.get("env", {})))
    assert step["env"] == {"AUTOGRADER_COURSE_KEY": "${{ secrets.AUTOGRADER_COURSE_KEY }}"}
    script = step["run"]
    assert script.index("python -m autograder sign") < script.index("python -m autograder merge")
    assert "--count-unverified" in script and "--boilerplate" not in script


def test_regrade_workflow_shards_on_cpu_grades_the_gpu_checks_and_collects() -> None:
    jobs = load(REGRADE)["jobs"]
    cpu = "\n".join(s.get("run", "") for s in jobs["cpu"]["steps"])
    assert (
        jobs["cpu"]["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.clone.outputs.shards) }}"
    )
    assert '--shard "$SHARD/$SHARDS" --device cpu' in cpu
    gpu = "\n".join(s.get("run", "") for s in jobs["gpu"]["steps"])
    assert jobs["gpu"]["runs-on"] == ["self-hosted", "linux", "x64", "gpu"]
    assert "--device cuda --gpu-only" in gpu
    assert jobs["collect"]["needs"] == ["cpu", "gpu"]
    final = "\n".join(s.get("run", "") for s in jobs["collect"]["steps"])
    assert "python -m autograder merge" in final and "python -m autograder collect" in final
    uploads = [
        s["with"]["name"]
        for job in jobs.values()
        for s in job["steps"]
        if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert uploads == [
        "class-clones",
        "regrade-cpu-${{ matrix.shard }}",
        "regrade-gpu",
        "class-report",
    ]


CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def shell_words(script: str, command: str, values: dict[str, list[str]]) -> list[list[str]]:
    """Each call of ``command`` in a step's script, split as the shell would, with its
    variables and arrays replaced by the sample ``values`` (a name missing there fails)."""
    import itertools
    import shlex

    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        if command not in line:
            continue
        lexer = shlex.shlex(
            line[line.index(command) + len(command) :], posix=True, punctuation_chars=";|&<>"
        )
        lexer.whitespace_split = True
        words = list(itertools.takewhile(lambda word: word.strip(";|&<>"), lexer))
        expanded: list[str] = []
        for word in words:
            array = re.fullmatch(r"\$\{(\w+)\[@\]\}", word)
            if array:
                expanded += values[array.group(1)]
                continue
            expanded.append(re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)][0], word))
        calls.append(expanded)
    return calls


def test_regrade_workflow_fetches_each_student_at_the_deadline_on_a_schedule() -> None:
    """The schedule trigger, and the clone step taking every repository with the real
    ``fetch`` command (its record is the state's time), ``--due`` the course's deadline file on a
    scheduled run; collect applies the same file. Each call is parsed with the CLI's own
    argparse, so a renamed or missing flag fails here."""
    from autograder import cli

    data = load(REGRADE)
    schedule = triggers(data)["schedule"]
    assert schedule and all(len(entry["cron"].split()) == 5 for entry in schedule)
    assert all(CRON_FIELD.match(f) for entry in schedule for f in entry["cron"].split())
    assert data["env"]["DEADLINES_FILE"] == "course-deadline.toml"
    assert "'schedule' && github.run_id" in data["concurrency"]["group"], "never waits"
    clone = next(s for s in data["jobs"]["clone"]["steps"] if s.get("id") == "clone")
    script = clone["run"]
    assert 'if [ "$EVENT" = schedule ]; then' in script
    assert 'due=(--due "$DEADLINES_FILE")' in script and "due=()" in script
    sample = {
        "due": ["--due", "course-deadline.toml"],
        "name": ["alice"],
        "repo": ["org/alice"],
        "DEADLINES_FILE": ["course-deadline.toml"],
    }
    calls = shell_words(script, "python -m autograder", sample)
    assert [call[0] for call in calls] == ["fetch"]
    args = cli.parser_for("fetch").parse_args(calls[0])
    assert args.due == Path("course-deadline.toml") and args.out == Path("class")
    assert args.sources == ["alice=https://github.com/org/alice.git"]
    by_hand = shell_words(script, "python -m autograder", sample | {"due": []})[0]
    assert cli.parser_for("fetch").parse_args(by_hand).due is None  # everyone: late work
    for job_id in ("cpu", "gpu"):  # nobody due: no grading job starts
        assert "needs.clone.outputs.fetched != '0'" in data["jobs"][job_id]["if"], job_id
    assert "github.event_name == 'schedule'" in data["jobs"]["gpu"]["if"]
    collect = next(
        s["run"]
        for s in data["jobs"]["collect"]["steps"]
        if "autograder collect" in s.get("run", "")
    )
    assert 'deadlines=(--deadlines "$DEADLINES_FILE")' in collect
    folders = {"RUNNER_TEMP": ["/r"], "final": ["/r/f"], "cpu": ["/r/c"], "gpu": ["/r/g"]}
    sample |= folders | {"student": ["alice"], "count": []}
    sample["deadlines"] = ["--deadlines", "course-deadline.toml"]
    calls = shell_words(collect, "python -m autograder", sample)
    assert [call[0] for call in calls] == ["sign", "merge", "collect"]
    parsed = [cli.parser_for(call[0]).parse_args(call) for call in calls[1:]]  # sign: xargs
    assert parsed[1].deadlines == Path("course-deadline.toml") and parsed[1].similarity


def test_student_workflow_runs_on_push_and_dispatch_only() -> None:
    assert set(triggers(load(GRADE))) == {"push", "workflow_dispatch"}


def steps_by_id(job: dict[str, Any]) -> list[str]:
    return [step.get("id", "") for step in job["steps"]]


def test_grading_jobs_use_the_pristine_grader_never_the_students_copy() -> None:
    data = load(GRADE)
    assert data["env"]["PYTHONSAFEPATH"] == "1"  # cwd (a checkout) never shadows the grader
    for job_id in ("cpu", "gpu", "report"):
        job = data["jobs"][job_id]
        ids = steps_by_id(job)
        assert ids[0] == "grader-settings", job_id  # fails before any checkout when unset
        grader = [s for s in job["steps"] if s.get("with", {}).get("path") == "grader"]
        assert len(grader) == 1, job_id
        assert grader[0]["with"]["repository"] == "${{ vars.GRADER_REPOSITORY }}"
        assert grader[0]["with"]["ref"] == "${{ vars.GRADER_REF }}"
        install = job["steps"][ids.index("install")]["run"]
        assert "./grader" in install and "-e" not in install.split(), job_id
    for job_id in ("cpu", "gpu"):
        run = data["jobs"][job_id]["steps"][steps_by_id(data["jobs"][job_id]).index("grade")]
        assert run["run"].lstrip().startswith("python -m autograder grade --repo student")


def test_every_grading_step_runs_workers_in_bubblewrap_after_enabling_it() -> None:
    """Grading must fail, not run student code unconfined, where the sandbox cannot start."""
    for path, jobs in ((GRADE, ("cpu", "gpu")), (INSTRUCTOR, ("checks",))):
        for job_id in jobs:
            job = load(path)["jobs"][job_id]
            steps = job["steps"]
            enable = steps_by_id(job).index("install-sandbox")
            assert steps[enable]["name"] == "Enable the bubblewrap sandbox"
            grade = "python -m autograder grade"
            grading = [i for i, step in enumerate(steps) if grade in step.get("run", "")]
            assert grading, (path.name, job_id)
            for i in grading:
                assert i > enable and SANDBOX_FLAG in steps[i]["run"], (path.name, job_id, i)


def test_gpu_job_checks_cuda_before_grading_and_holds_one_runner() -> None:
    job = load(GRADE)["jobs"]["gpu"]
    assert job["runs-on"] == ["self-hosted", "linux", "x64", "gpu"]
    assert job["concurrency"]["group"] and job["concurrency"]["cancel-in-progress"] is False
    ids = steps_by_id(job)
    assert ids.index("install") < ids.index("cuda-check") < ids.index("grade")
    grade = job["steps"][ids.index("grade")]["run"]
    assert "--device cuda --gpu-only" in grade and "--only" not in grade


def test_gpu_job_runs_only_when_the_course_turns_it_on() -> None:
    """Unset, the job is skipped at once (never queued for a runner that does not exist)."""
    condition = load(GRADE)["jobs"]["gpu"]["if"]
    assert "vars.GPU_GRADING == 'on'" in condition, condition


def test_every_job_but_template_skips_the_template_repository_itself() -> None:
    jobs = load(GRADE)["jobs"]
    not_template = "github.repository != vars.GRADER_REPOSITORY"
    assert "github.repository == vars.GRADER_REPOSITORY" in jobs["template"]["if"]
    assert "github.event.repository.is_template" in jobs["template"]["if"]
    for job_id in ("cpu", "gpu"):
        assert not_template in jobs[job_id]["if"], job_id
        assert "!github.event.repository.is_template" in jobs[job_id]["if"], job_id
    assert "needs.cpu.result == 'success'" in jobs["report"]["if"]  # skipped with cpu


def test_instructor_gpu_tests_run_by_hand_on_the_gpu_runner_and_may_not_skip() -> None:
    data = load(INSTRUCTOR)
    assert "workflow_dispatch" in triggers(data)
    job = data["jobs"]["gpu-tests"]
    assert job["if"] == "${{ github.event_name == 'workflow_dispatch' }}"  # never a PR
    assert job["runs-on"] == ["self-hosted", "linux", "x64", "gpu"]
    assert job["env"]["GPU_REQUIRED"] == "true" and job["env"]["CI"] == "true"
    assert job["env"]["PIP_EXTRA_INDEX_URL"] == ""  # not the CPU wheels of the checks job
    ids = steps_by_id(job)
    assert ids.index("install") < ids.index("cuda-check") < ids.index("gpu-tests")
    command = job["steps"][ids.index("gpu-tests")]["run"]
    assert "tests/test_gpu.py" in command and (ROOT / "tests" / "test_gpu.py").is_file()


def test_report_job_runs_after_a_failed_gpu_job_and_sets_the_pass_mark_through_env() -> None:
    job = load(GRADE)["jobs"]["report"]
    assert job["needs"] == ["cpu", "gpu"]
    assert "!cancelled()" in job["if"] and "needs.cpu.result == 'success'" in job["if"]
    assert job["env"]["PASS_MARK"] == "${{ vars.PASS_MARK || '50' }}"
    assert '--fail-under "$PASS_MARK"' in job["steps"][-1]["run"]


# --------------------------------------------------------------------------- the local runner


def tiny_workflow(tmp_path: Path, steps: str) -> WorkflowRunner:
    path = tmp_path / "tiny.yml"
    path.write_text(
        "on: push\npermissions:\n  contents: read\ndefaults:\n  run:\n    shell: bash\n"
        "env:\n  GREETING: ${{ vars.GREETING || 'hello' }}\n"
        "jobs:\n  only:\n    runs-on: ubuntu-latest\n    steps:\n" + steps,
        encoding="utf-8",
    )
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    return WorkflowRunner(
        path, root=tmp_path / "run", repositories={"a/b": repo}, default_repository="a/b"
    )


def test_runner_fails_a_broken_command_and_skips_what_follows(tmp_path: Path) -> None:
    runner = tiny_workflow(
        tmp_path,
        '      - id: greet\n        run: echo "$GREETING" >> "$GITHUB_STEP_SUMMARY"\n'
        "      - id: broken\n        run: |\n          no-such-command-here\n          echo after\n"
        "      - id: next\n        run: echo never\n"
        "      - id: always\n        if: ${{ always() }}\n        run: echo cleanup\n",
    )
    job = runner.run_job("only")
    assert job.result == "failure", job.describe()
    assert job.summary == "hello\n"
    assert job.step("broken").returncode == 127 and "after" not in job.step("broken").output
    assert job.step("next").outcome == "skipped"
    assert job.step("always").outcome == "success"


def test_runner_refuses_what_it_cannot_evaluate(tmp_path: Path) -> None:
    inline = tiny_workflow(tmp_path, "      - run: echo ${{ github.event.head_commit.message }}\n")
    with pytest.raises(WorkflowError, match="env:"):
        inline.run_job("only")
    unknown = tiny_workflow(
        tmp_path,
        "      - env:\n          X: ${{ github.event.head_commit.message }}\n        run: echo\n",
    )
    with pytest.raises(WorkflowError, match="unsupported expression"):
        unknown.run_job("only")
    action = tiny_workflow(tmp_path, "      - uses: some/action@v1\n")
    with pytest.raises(WorkflowError, match="no local equivalent"):
        action.run_job("only")


# --------------------------------------------------------------------------- student repository


@dataclass
class Repos:
    """The student's repository (solutions as their work) and the pristine grader release,
    both built by ``python -m autograder release`` (with its manifest), so the workflow
    runs as shipped: ``grade --repo student`` with the manifest and tamper checks."""

    student: Path
    grader: Path

    def replace(self) -> dict[str, str]:
        return dict(LOCAL_REPLACE)


def build_repos(base: Path) -> Repos:
    grader = base / "grader-release"
    out = base / "release"
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "release", "--out", str(out), "--no-nbgrader"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shutil.copytree(out / "student", grader, symlinks=True)
    student = base / "student-repo"
    shutil.copytree(grader, student, symlinks=True)
    for module in EXERCISES.values():  # the student's work: the reference solutions
        shutil.copyfile(ROOT / "solutions" / f"{module}.py", student / "exercises" / f"{module}.py")
    return Repos(student=student, grader=grader)


def grade_runner(repos: Repos, root: Path, **variables: str) -> WorkflowRunner:
    return WorkflowRunner(
        GRADE,
        root=root,
        repositories={STUDENT_REPO: repos.student, GRADER_REPO: repos.grader},
        default_repository=STUDENT_REPO,
        vars={"GRADER_REPOSITORY": GRADER_REPO, "GRADER_REF": GRADER_SHA, **variables},
    )


@dataclass
class Pipeline:
    repos: Repos
    runner: WorkflowRunner
    cpu: JobResult
    gpu_as_is: JobResult
    gpu_on_cpu: JobResult


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The cpu job, and the gpu job twice: as written (here it must fail its CUDA check) and
    with the CUDA check left out and --device cuda replaced by --device cpu."""
    base = tmp_path_factory.mktemp("workflow")
    repos = build_repos(base)
    runner = grade_runner(repos, base / "run", GPU_GRADING="on")
    cpu = runner.run_job("cpu", replace=repos.replace())
    gpu_as_is = runner.run_job("gpu", replace=repos.replace())
    gpu_on_cpu = runner.run_job(
        "gpu",
        replace={**repos.replace(), "--device cuda": "--device cpu"},
        skip={"cuda-check"},
    )
    yield Pipeline(repos, runner, cpu, gpu_as_is, gpu_on_cpu)


def simulate_cuda_results(artifact: Path) -> None:
    """A GPU run as the GPU job would upload it: device cuda, the GPU checks graded."""
    path = artifact / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    results["extra_data"]["device"].update(used="cuda", cuda_available=True, name="Simulated")
    for test in results["tests"]:
        if test["id"] in GPU_IDS:
            test.update(status="passed", score=test["max_score"], output="")
    # and the student's plot of the CUDA rows, which hard.sweep_rows_cuda keeps on a real GPU
    shutil.copyfile(
        ROOT / "tests" / "fixtures" / "results" / "full_marks" / "sweep.png", artifact / "sweep.png"
    )
    results["extra_data"]["artifacts"] = {"sweep_plot": "sweep.png"}
    path.write_text(json.dumps(results), encoding="utf-8")


def report_runner(pipeline: Pipeline, root: Path, *, gpu: bool, **variables: str) -> WorkflowRunner:
    """A fresh runner whose artifact store holds the cpu job's upload (and a simulated GPU's)."""
    runner = grade_runner(pipeline.repos, root, **variables)
    shutil.copytree(pipeline.runner.artifacts / "grading-cpu", runner.artifacts / "grading-cpu")
    if gpu:
        target = runner.artifacts / "grading-gpu"
        shutil.copytree(pipeline.runner.artifacts / "grading-gpu", target)
        simulate_cuda_results(target)
    return runner


def final_results(job: JobResult) -> dict[str, Any]:
    return json.loads((job.workspace / "results/final/results.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_cpu_job_grades_every_check_with_the_pristine_grader(pipeline: Pipeline) -> None:
    job = pipeline.cpu
    assert job.result == "success", job.describe()
    assert job.step("install").kind == "install"
    uploaded = pipeline.runner.artifacts / "grading-cpu"
    assert {"results.json", "junit.xml", "summary.md", "sweep.png"} <= {
        p.name for p in uploaded.iterdir()
    }
    results = json.loads((uploaded / "results.json").read_text(encoding="utf-8"))
    assert [t["id"] for t in results["tests"]] == [c.id for c in CHECKS]
    assert {t["id"] for t in results["tests"] if t["status"] == "pending"} >= GPU_IDS
    assert results["extra_data"]["device"]["used"] == "cpu"
    assert "# Grading report" in job.summary
    integrity = results["extra_data"]["integrity"]
    assert integrity["tamper"] == [] and integrity["manifest_source"] == "instructor"


@pytest.mark.slow
def test_a_students_edited_grader_never_runs_and_shows_as_tampered(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(pipeline.repos.student, tampered, symlinks=True)
    (tampered / "autograder" / "__init__.py").write_text(
        'raise SystemExit("the student\'s copy of the grader ran")\n', encoding="utf-8"
    )
    with (tampered / ".github" / "workflows" / "grade.yml").open("a") as workflow:
        workflow.write("# edited\n")
    repos = Repos(student=tampered, grader=pipeline.repos.grader)
    runner = grade_runner(repos, tmp_path / "run")
    job = runner.run_job("cpu", replace=LOCAL_REPLACE)
    assert job.result == "success", job.describe()
    results = json.loads((runner.artifacts / "grading-cpu" / "results.json").read_text())
    assert {(t["path"], t["change"]) for t in results["extra_data"]["integrity"]["tamper"]} >= {
        ("autograder/__init__.py", "modified"),
        (".github/workflows/grade.yml", "modified"),
    }
    assert "Protected files changed" in job.summary


@pytest.mark.slow
def test_gpu_job_without_a_gpu_fails_loudly_before_grading(pipeline: Pipeline) -> None:
    job = pipeline.gpu_as_is
    assert job.result == "failure"
    assert job.failed_step is not None and job.failed_step.id == "cuda-check", job.describe()
    assert "::error title=No CUDA" in job.failed_step.output
    assert job.step("grade").outcome == "skipped"


@pytest.mark.slow
def test_gpu_job_steps_work_once_the_device_is_substituted(pipeline: Pipeline) -> None:
    job = pipeline.gpu_on_cpu
    assert job.result == "success", job.describe()
    results = json.loads(
        (pipeline.runner.artifacts / "grading-gpu" / "results.json").read_text(encoding="utf-8")
    )
    assert {t["exercise"] for t in results["tests"]} == {"hard"}
    # --gpu-only: just the checks that need CUDA (pending here, where --device cpu replaced cuda)
    assert [t["id"] for t in results["tests"]] == [c.id for c in CHECKS if c.gpu]


@pytest.mark.slow
def test_report_job_merges_cpu_and_gpu_into_every_check_once(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    runner = report_runner(pipeline, tmp_path, gpu=True)
    job = runner.run_job("report", needs={"cpu": "success", "gpu": "success"})
    assert job.result == "success", job.describe()
    results = final_results(job)
    ids = [t["id"] for t in results["tests"]]
    assert ids == [c.id for c in CHECKS]
    by_id = {t["id"]: t for t in results["tests"]}
    assert all(by_id[i]["status"] == "passed" and by_id[i]["device"] == "cuda" for i in GPU_IDS)
    assert {by_id[c.id]["status"] for c in CHECKS if c.manual} == {"pending"}
    assert "# Grading report" in job.summary and "did not succeed" not in job.summary
    final = runner.artifacts / "grading-final"
    assert {"results.json", "summary.md", "junit.xml", "cuda-sweep.png"} <= {
        p.name for p in final.iterdir()
    }
    assert results["extra_data"]["artifacts"]["sweep_plot"] == "cuda-sweep.png"


@pytest.mark.slow
def test_report_job_after_a_failed_gpu_job_keeps_gpu_checks_pending(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    runner = report_runner(pipeline, tmp_path, gpu=False)
    job = runner.run_job("report", needs={"cpu": "success", "gpu": "failure"})
    assert job.result == "success", job.describe()
    results = final_results(job)
    assert [t["id"] for t in results["tests"]] == [c.id for c in CHECKS]
    gpu = [t for t in results["tests"] if t["id"] in GPU_IDS]
    assert {t["status"] for t in gpu} == {"pending"} and sum(t["score"] for t in gpu) == 0
    assert "did not succeed (result: failure)" in job.summary


@pytest.mark.slow
def test_report_job_fails_below_the_pass_mark_after_showing_the_grade(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    runner = report_runner(pipeline, tmp_path, gpu=False, PASS_MARK="99")
    job = runner.run_job("report", needs={"cpu": "success", "gpu": "skipped"})
    assert job.result == "failure"
    assert job.failed_step is not None and job.failed_step.id == "pass-mark", job.describe()
    assert "below --fail-under 99%" in job.failed_step.output
    assert "# Grading report" in job.summary
    assert (runner.artifacts / "grading-final" / "results.json").is_file()


@pytest.mark.slow
def test_without_gpu_grading_students_get_their_final_grade_at_once(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """GPU_GRADING unset: the gpu job is skipped (not queued), the report runs at once."""
    runner = report_runner(pipeline, tmp_path, gpu=False)
    gpu = runner.run_job("gpu")
    assert gpu.result == "skipped" and gpu.steps == []
    job = runner.run_job("report", needs={"cpu": "success", "gpu": gpu.result})
    assert job.result == "success", job.describe()
    gpu_checks = [t for t in final_results(job)["tests"] if t["id"] in GPU_IDS]
    assert {t["status"] for t in gpu_checks} == {"pending"}
    assert "No GPU grading in this run" in job.summary and "did not succeed" not in job.summary


@pytest.mark.parametrize(
    "repository, is_template",
    [(GRADER_REPO, False), ("course/another-name", True), (GRADER_REPO, True)],
)
def test_the_template_repositorys_own_pushes_grade_nothing_and_succeed(
    tmp_path: Path, repository: str, is_template: bool
) -> None:
    runner = WorkflowRunner(
        GRADE,
        root=tmp_path,
        repositories={repository: tmp_path},
        default_repository=repository,
        vars={"GRADER_REPOSITORY": GRADER_REPO, "GRADER_REF": GRADER_SHA, "GPU_GRADING": "on"},
        is_template=is_template,
    )
    template = runner.run_job("template")
    assert template.result == "success", template.describe()
    assert "template repository: nothing to grade" in template.summary
    assert runner.run_job("cpu").result == "skipped"
    assert runner.run_job("gpu").result == "skipped"
    assert runner.run_job("report", needs={"cpu": "skipped", "gpu": "skipped"}).result == (
        "skipped"
    )


def test_a_student_repository_does_not_run_the_template_job(tmp_path: Path) -> None:
    runner = WorkflowRunner(
        GRADE,
        root=tmp_path,
        repositories={STUDENT_REPO: tmp_path},
        default_repository=STUDENT_REPO,
        vars={"GRADER_REPOSITORY": GRADER_REPO, "GRADER_REF": GRADER_SHA},
    )
    assert runner.run_job("template").result == "skipped"


# --------------------------------------------------------------------------- README agrees


README = ROOT / "README.md"
WORKFLOW_SETTING = re.compile(r"\b(vars|secrets)\.([A-Z][A-Z0-9_]*)")


def readme_settings_table() -> dict[str, list[str]]:
    """The README's table of workflow variables and secrets: name -> the row's cells."""
    text = README.read_text(encoding="utf-8")
    start = text.index("| variable or secret |")
    rows: dict[str, list[str]] = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells
    return rows


def test_the_readme_lists_every_variable_and_secret_the_workflows_read() -> None:
    read = {
        name
        for path in all_workflows()
        for _, name in WORKFLOW_SETTING.findall(path.read_text(encoding="utf-8"))
    }
    table = readme_settings_table()
    assert set(table) == read
    assert all(len(cells) == 5 and all(cells) for cells in table.values()), table
    pass_mark = re.search(r"vars\.PASS_MARK \|\| '(\d+)'", GRADE.read_text(encoding="utf-8"))
    assert pass_mark and pass_mark.group(1) in table["PASS_MARK"][3]
    gpu = table["GPU_GRADING"]
    assert "`on`" in gpu[2] and gpu[3] == "off" and "pending" in gpu[4]
    runner_doc = (ROOT / "docs" / "gpu-runner.md").read_text(encoding="utf-8")
    for name in {n for _, n in WORKFLOW_SETTING.findall(GRADE.read_text(encoding="utf-8"))}:
        assert f"| `{name}` |" in runner_doc, f"docs/gpu-runner.md's table lacks {name}"


def readme_release_commands() -> list[str]:
    """The shell lines of the README's 'Distribute as a GitHub template repository' block."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**Distribute as a GitHub template repository.**") :]
    block = section[section.index("\n\n    ") + 2 :]
    lines = []
    for line in block.splitlines():
        if not line.startswith("    "):
            break
        lines.append(line.strip())
    return lines


def test_the_readme_creates_the_grader_repository_the_workflow_can_read() -> None:
    """The student workflow checks the grader out with the student repository's read-only
    token and no other credential, which can read only a public repository: the README must
    create it public, and the docs must say the same."""
    data = load(GRADE)
    for job_id in ("cpu", "gpu", "report"):
        checkout = next(
            s for s in data["jobs"][job_id]["steps"] if s.get("with", {}).get("path") == "grader"
        )
        assert not {"token", "ssh-key"} & set(checkout["with"]), job_id
    create = [line for line in readme_release_commands() if line.startswith("gh repo create")]
    assert len(create) == 1 and "--public" in create[0].split(), create
    assert "--private" not in create[0] and "--internal" not in create[0]
    for doc in ("docs/gpu-runner.md", "docs/release.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert "--private" not in text, doc
        said = [p for p in text.split("\n\n") if "GRADER_REPOSITORY" in p and "public" in p]
        assert said, f"{doc} must say the grader repository (GRADER_REPOSITORY) is public"
    assert "GRADER_REPOSITORY" in " ".join(readme_release_commands())


@pytest.mark.slow
def test_report_job_does_not_run_without_cpu_results(pipeline: Pipeline, tmp_path: Path) -> None:
    runner = report_runner(pipeline, tmp_path, gpu=False)
    assert runner.run_job("report", needs={"cpu": "failure", "gpu": "success"}).result == (
        "skipped"
    )


@pytest.mark.slow
def test_without_the_grader_variables_nothing_is_checked_out_or_graded(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    runner = WorkflowRunner(
        GRADE,
        root=tmp_path,
        repositories={STUDENT_REPO: pipeline.repos.student},
        default_repository=STUDENT_REPO,
        vars={},
    )
    job = runner.run_job("cpu")
    assert job.failed_step is not None and job.failed_step.id == "grader-settings"
    assert "Grader not configured" in job.failed_step.output
    assert all(step.outcome == "skipped" for step in job.steps[1:])
    assert not (job.workspace / "grader").exists()


# --------------------------------------------------------------------------- instructor workflow


@pytest.mark.slow
def test_instructor_checks_for_solutions_and_stubs_run(tmp_path: Path) -> None:
    """The inline checks only: lint, the test suite and the audits are this suite itself
    (running them here would recurse)."""
    runner = WorkflowRunner(
        INSTRUCTOR,
        root=tmp_path,
        repositories={"course/why-transformers": ROOT},
        default_repository="course/why-transformers",
    )
    # The release is built (and its workflow run) by the pipeline fixture above.
    skip = {"lint", "test", "zizmor", "schema", "release"}
    job = runner.run_job("checks", skip=skip, replace=LOCAL_REPLACE)
    assert job.result == "success", job.describe()
    assert "solutions:" in job.step("solutions").output
    assert "stubs: 0 points" in job.step("stubs").output
