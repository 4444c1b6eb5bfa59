"""Run a GitHub Actions workflow's jobs here, step by step, to prove its shell steps work.

Not an Actions emulator: just enough of the runner to execute this repository's workflows
without GitHub, so a broken command, a wrong path or a missing file fails the test suite
instead of a student's first push. The rules:

* ``run:`` steps run with bash as GitHub runs them: ``shell: bash`` (also through
  ``defaults.run.shell``) is ``bash --noprofile --norc -eo pipefail {0}``, no shell is
  ``bash -e {0}``; any other shell is refused. They run in the job's own workspace, with
  ``GITHUB_WORKSPACE``, ``RUNNER_TEMP``, ``GITHUB_ENV``, ``GITHUB_PATH``, ``GITHUB_OUTPUT``
  and ``GITHUB_STEP_SUMMARY`` pointing at temporary files and folders, and the ``env:``
  blocks of the workflow, the job and the step applied in GitHub's order.
* ``uses:`` steps are replaced by their local equivalent, and only these: actions/checkout
  copies a local folder into place (``repositories`` maps ``owner/name`` to a folder; no
  ``repository`` means the repository under test), actions/setup-python puts this
  interpreter's folder first on ``PATH``, actions/upload-artifact and
  actions/download-artifact copy to and from a local artifact store shared by the jobs of one
  :class:`WorkflowRunner`. Any other action raises :class:`WorkflowError`.
* Install steps are the one exception to running every command: a step whose ``id`` is
  ``install`` (or starts with ``install-``) is a no-op, because this virtual environment
  already holds the grader and its dependencies (a real install would download torch).
  The workflows follow that naming, so nothing else is skipped silently.
* ``${{ }}`` expressions: only ``env.X``, ``vars.X``, ``github.workspace``,
  ``github.repository``, ``github.event.repository.is_template``, ``runner.temp``,
  ``needs.JOB.result``, string literals, ``==``, ``!=``, ``!``, ``&&``,
  ``||``, parentheses and ``success() / failure() / always() / cancelled()`` are understood,
  each only where GitHub allows its context. Anything else raises :class:`WorkflowError`,
  and so does any expression inside a ``run:`` script (values reach shells through env:).
* ``replace`` substitutes text in ``run:`` scripts (the tests run the GPU job's grading with
  ``--device cpu``); ``skip`` leaves steps out by id, reported as skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["JobResult", "StepResult", "WorkflowError", "WorkflowRunner", "evaluate"]

DEFAULT_TIMEOUT_S = 300.0
BASH = shutil.which("bash") or "/bin/bash"
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "*.egg-info"
)
PASSED_ENV = ("HOME", "LANG", "LC_ALL", "USER", "TMPDIR", "TERM")


class WorkflowError(RuntimeError):
    """The workflow uses something this runner does not understand: fail loudly, never guess."""


# --------------------------------------------------------------------------- expressions

_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||==|!=|!|\(|\))|(?P<str>'(?:[^']|'')*')"
    r"|(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*))"
)
_FUNCTIONS = ("success", "failure", "always", "cancelled")


@dataclass
class Context:
    """What an expression may see at one place of the workflow."""

    allowed: frozenset[str]  # context names GitHub allows here: env, vars, github, ...
    env: Mapping[str, str] = field(default_factory=dict)
    vars: Mapping[str, str] = field(default_factory=dict)
    workspace: str = ""
    runner_temp: str = ""
    repository: str = ""  # github.repository: owner/name of the repository under test
    is_template: bool = False  # github.event.repository.is_template
    needs: Mapping[str, str] = field(default_factory=dict)  # job id -> result
    failed: bool = False  # a previous step (or a needed job) failed

    def status(self, name: str) -> bool:
        if "functions" not in self.allowed:
            raise WorkflowError(f"{name}() is not allowed here")
        return {
            "success": not self.failed,
            "failure": self.failed,
            "always": True,
            "cancelled": False,
        }[name]

    def lookup(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head in ("true", "false", "null") and not rest:
            return {"true": True, "false": False, "null": None}[head]
        if head not in self.allowed:
            raise WorkflowError(f"context {head!r} is not available here ({path})")
        if head == "env" and rest and "." not in rest:
            return self.env.get(rest, "")
        if head == "vars" and rest and "." not in rest:
            return self.vars.get(rest, "")
        if path == "github.workspace":
            return self.workspace
        if path == "github.repository":
            return self.repository
        if path == "github.event.repository.is_template":
            return self.is_template
        if path == "runner.temp":
            return self.runner_temp
        parts = path.split(".")
        if head == "needs" and len(parts) == 3 and parts[2] == "result":
            if parts[1] not in self.needs:
                raise WorkflowError(f"{path}: job {parts[1]!r} is not in needs")
            return self.needs[parts[1]]
        raise WorkflowError(f"unsupported expression {path!r}")


def _truthy(value: Any) -> bool:
    return value not in ("", 0, None, False)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()  # GitHub compares strings ignoring case
    return left == right


class _Parser:
    """Recursive descent over the small expression language described in the module."""

    def __init__(self, text: str, context: Context) -> None:
        self.text = text
        self.context = context
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if not match:
                raise WorkflowError(f"unsupported expression {text!r} at {text[position:]!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.index = 0

    def parse(self) -> Any:
        value = self._or()
        if self.index != len(self.tokens):
            raise WorkflowError(f"unsupported expression {self.text!r}")
        return value

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, value: str) -> bool:
        token = self._peek()
        if token and token == ("op", value):
            self.index += 1
            return True
        return False

    def _or(self) -> Any:
        value = self._and()
        while self._take("||"):
            right = self._and()
            value = value if _truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._equality()
        while self._take("&&"):
            right = self._equality()
            value = right if _truthy(value) else value
        return value

    def _equality(self) -> Any:
        value = self._unary()
        if self._take("=="):
            return _equal(value, self._unary())
        if self._take("!="):
            return not _equal(value, self._unary())
        return value

    def _unary(self) -> Any:
        if self._take("!"):
            return not _truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        token = self._peek()
        if token is None:
            raise WorkflowError(f"unsupported expression {self.text!r}: ends too early")
        self.index += 1
        kind, value = token
        if (kind, value) == ("op", "("):
            inner = self._or()
            if not self._take(")"):
                raise WorkflowError(f"unsupported expression {self.text!r}: missing ')'")
            return inner
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value)
        if kind == "name":
            if value in _FUNCTIONS and self._take("("):
                if not self._take(")"):
                    raise WorkflowError(f"{value}() takes no arguments here")
                return self.context.status(value)
            return self.context.lookup(value)
        raise WorkflowError(f"unsupported expression {self.text!r}")


def evaluate(expression: str, context: Context) -> Any:
    """The value of one expression (the text between ``${{`` and ``}}``)."""
    return _Parser(expression, context).parse()


def _as_text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def interpolate(value: Any, context: Context) -> str:
    """A YAML scalar with every ``${{ }}`` replaced by its value, as text."""
    text = _as_text(value)
    return _TEMPLATE.sub(lambda m: _as_text(evaluate(m.group(1), context)), text)


def condition(value: Any, context: Context) -> bool:
    """An ``if:``: with or without ``${{ }}``, as GitHub reads it."""
    text = _as_text(value).strip()
    whole = _TEMPLATE.fullmatch(text)
    if whole:
        text = whole.group(1)
    elif "${{" in text:
        raise WorkflowError(f"unsupported if: {text!r}")
    return _truthy(evaluate(text, context))


# --------------------------------------------------------------------------- results


@dataclass
class StepResult:
    """One step as it ran: what it was, how it ended, and everything it printed."""

    name: str
    id: str | None
    kind: str  # run | checkout | setup-python | upload-artifact | download-artifact | install
    outcome: str  # success | failure | skipped
    returncode: int | None = None
    output: str = ""


@dataclass
class JobResult:
    """A job's result as ``needs.JOB.result`` would say it, its steps and its step summary."""

    job: str
    result: str  # success | failure | skipped
    steps: list[StepResult]
    workspace: Path
    summary: str = ""

    def step(self, step_id: str) -> StepResult:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"{self.job} has no step with id {step_id!r}")

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.outcome == "failure"), None)

    def describe(self) -> str:
        """Each step's outcome and, for a failure, the tail of its output (for assertions)."""
        lines = [f"job {self.job}: {self.result}"]
        for step in self.steps:
            lines.append(f"  [{step.outcome}] {step.id or '-'}: {step.name} ({step.kind})")
            if step.outcome == "failure":
                lines += ["    " + line for line in step.output[-4000:].splitlines()]
        return "\n".join(lines)


# --------------------------------------------------------------------------- the runner


class WorkflowRunner:
    """Runs the jobs of one workflow under ``root``; jobs share one local artifact store."""

    def __init__(
        self,
        workflow: Path,
        *,
        root: Path,
        repositories: Mapping[str, Path],
        default_repository: str,
        vars: Mapping[str, str] | None = None,
        python: Path | None = None,
        is_template: bool = False,
    ) -> None:
        self.path = Path(workflow)
        self.workflow: dict[str, Any] = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        self.root = Path(root)
        self.artifacts = self.root / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.repositories = {name: Path(path) for name, path in repositories.items()}
        if default_repository not in self.repositories:
            raise WorkflowError(f"default repository {default_repository!r} has no folder")
        self.default_repository = default_repository
        self.vars = dict(vars or {})
        self.python = Path(python or sys.executable)
        self.is_template = is_template  # the repository under test is a template repository

    # -- public

    def run_job(
        self,
        job_id: str,
        *,
        needs: Mapping[str, str] | None = None,
        replace: Mapping[str, str] | None = None,
        skip: Collection[str] = (),
    ) -> JobResult:
        """Run one job as a fresh runner would; ``needs`` gives the needed jobs' results."""
        jobs = self.workflow.get("jobs") or {}
        if job_id not in jobs:
            raise WorkflowError(f"{self.path.name} has no job {job_id!r}")
        job = jobs[job_id]
        declared = job.get("needs") or []
        declared = [declared] if isinstance(declared, str) else list(declared)
        needs = dict(needs or {})
        missing = [name for name in declared if name not in needs]
        if missing:
            raise WorkflowError(f"job {job_id} needs {missing}: pass their results")
        needs = {name: needs[name] for name in declared}
        here = self.root / "jobs" / job_id
        shutil.rmtree(here, ignore_errors=True)
        workspace, temp = here / "workspace", here / "temp"
        workspace.mkdir(parents=True)
        temp.mkdir()

        job_context = Context(
            allowed=frozenset({"github", "needs", "vars", "functions"}),
            vars=self.vars,
            workspace=str(workspace),
            repository=self.default_repository,
            is_template=self.is_template,
            needs=needs,
            failed=any(result != "success" for result in needs.values()),
        )
        if not condition(job.get("if", "success()"), job_context):
            return JobResult(job=job_id, result="skipped", steps=[], workspace=workspace)

        top_context = Context(
            allowed=frozenset({"github", "vars"}),
            vars=self.vars,
            workspace=str(workspace),
            repository=self.default_repository,
            is_template=self.is_template,
        )
        env: dict[str, str] = {}
        for key, value in (self.workflow.get("env") or {}).items():
            env[key] = interpolate(value, top_context)
        env_context = Context(
            allowed=frozenset({"github", "needs", "vars"}),
            vars=self.vars,
            workspace=str(workspace),
            repository=self.default_repository,
            is_template=self.is_template,
            needs=needs,
        )
        for key, value in (job.get("env") or {}).items():
            env[key] = interpolate(value, env_context)

        defaults = {
            **((self.workflow.get("defaults") or {}).get("run") or {}),
            **((job.get("defaults") or {}).get("run") or {}),
        }
        state = _JobState(
            workspace=workspace,
            temp=temp,
            base_env=self._base_env(job_id, workspace, temp),
            env=env,
            needs=needs,
            replace=dict(replace or {}),
            default_shell=defaults.get("shell"),
            default_directory=defaults.get("working-directory"),
            default_timeout=float(job.get("timeout-minutes", DEFAULT_TIMEOUT_S / 60)) * 60,
        )
        steps: list[StepResult] = []
        for number, step in enumerate(job.get("steps") or []):
            result = self._run_step(number, step, state, skip)
            steps.append(result)
            if result.outcome == "failure" and not step.get("continue-on-error"):
                state.failed = True
        return JobResult(
            job=job_id,
            result="failure" if state.failed else "success",
            steps=steps,
            workspace=workspace,
            summary=state.summary,
        )

    # -- helpers

    def _base_env(self, job_id: str, workspace: Path, temp: Path) -> dict[str, str]:
        """What a runner provides before any env: block; this venv is not on PATH yet."""
        venv_bin = str(self.python.parent)
        path = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)]
        path = [p for p in path if p and p != venv_bin]
        env = {key: os.environ[key] for key in PASSED_ENV if key in os.environ}
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_JOB=job_id,
            GITHUB_REPOSITORY=self.default_repository,
            GITHUB_REF="refs/heads/main",
            GITHUB_WORKSPACE=str(workspace),
            RUNNER_TEMP=str(temp),
            RUNNER_OS="Linux",
            PATH=os.pathsep.join(path),
        )
        return env

    def _run_step(
        self, number: int, step: Mapping[str, Any], state: _JobState, skip: Collection[str]
    ) -> StepResult:
        step_id = step.get("id")
        name = str(step.get("name") or step.get("run") or step.get("uses") or f"step {number}")
        kind = "run" if "run" in step else _action_kind(str(step.get("uses", "")))
        context = state.context(self.vars)
        context.repository, context.is_template = self.default_repository, self.is_template
        if not condition(step.get("if", "success()"), context):
            return StepResult(name=name, id=step_id, kind=kind, outcome="skipped")
        if step_id in skip:
            return StepResult(name=name, id=step_id, kind=kind, outcome="skipped", output="skip")
        if step_id == "install" or str(step_id or "").startswith("install-"):
            return StepResult(
                name=name,
                id=step_id,
                kind="install",
                outcome="success",
                output="no-op: this virtual environment already holds the grader",
            )
        env = state.step_env()
        for key, value in (step.get("env") or {}).items():
            env[key] = interpolate(value, context)
        context.env = {**context.env, **{k: env[k] for k in step.get("env") or {}}}
        if "run" in step:
            return self._run_script(step, name, state, env, context)
        inputs = {
            key: interpolate(value, context) for key, value in (step.get("with") or {}).items()
        }
        try:
            output = self._action(kind, inputs, state)
        except _ActionFailed as failure:
            return StepResult(
                name=name, id=step_id, kind=kind, outcome="failure", output=str(failure)
            )
        return StepResult(name=name, id=step_id, kind=kind, outcome="success", output=output)

    def _run_script(
        self,
        step: Mapping[str, Any],
        name: str,
        state: _JobState,
        env: dict[str, str],
        context: Context,
    ) -> StepResult:
        script = str(step["run"])
        if "${{" in script:
            raise WorkflowError(f"step {name!r}: an expression inside run:; pass it through env:")
        for old, new in state.replace.items():
            script = script.replace(old, new)
        shell = step.get("shell", state.default_shell)
        if shell is None:
            command = [BASH, "-e"]
        elif shell == "bash":
            command = [BASH, "--noprofile", "--norc", "-eo", "pipefail"]
        else:
            raise WorkflowError(f"step {name!r}: shell {shell!r} is not supported")
        folder = step.get("working-directory") or state.default_directory
        cwd = _inside(state.workspace, interpolate(folder, context) if folder else "")
        step_dir = state.temp / f"_step{len(state.summaries)}"
        step_dir.mkdir()
        script_path = step_dir / "script.sh"
        script_path.write_text(script, encoding="utf-8")
        output_file, summary_file = step_dir / "output", step_dir / "summary"
        env_file, path_file = step_dir / "env", step_dir / "path"
        for file in (output_file, summary_file, env_file, path_file):
            file.touch()
        env.update(
            GITHUB_OUTPUT=str(output_file),
            GITHUB_STEP_SUMMARY=str(summary_file),
            GITHUB_ENV=str(env_file),
            GITHUB_PATH=str(path_file),
        )
        timeout = float(step.get("timeout-minutes", state.default_timeout / 60)) * 60
        try:
            done = subprocess.run(
                [*command, str(script_path)],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=min(timeout, DEFAULT_TIMEOUT_S),
                check=False,
            )
            returncode, output = done.returncode, done.stdout
        except subprocess.TimeoutExpired as expired:
            returncode, output = 124, f"{expired.output or ''}\n[timed out after {timeout} s]"
        state.summaries.append(summary_file.read_text(encoding="utf-8"))
        state.exported.update(_read_env_file(env_file))
        state.path_prefix = [
            line.strip() for line in path_file.read_text().splitlines() if line.strip()
        ][::-1] + state.path_prefix
        return StepResult(
            name=name,
            id=step.get("id"),
            kind="run",
            outcome="success" if returncode == 0 else "failure",
            returncode=returncode,
            output=output,
        )

    def _action(self, kind: str, inputs: dict[str, str], state: _JobState) -> str:
        if kind == "checkout":
            repository = inputs.get("repository") or self.default_repository
            if repository not in self.repositories:
                raise _ActionFailed(f"repository {repository!r} not found")
            target = _inside(state.workspace, inputs.get("path", ""))
            if target != state.workspace:
                shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(
                self.repositories[repository], target, ignore=COPY_IGNORE, dirs_exist_ok=True
            )
            return f"copied {repository} ({inputs.get('ref') or 'default ref'}) to {target}"
        if kind == "setup-python":
            wanted = inputs.get("python-version", "")
            have = f"{sys.version_info.major}.{sys.version_info.minor}"
            if wanted != have:
                raise WorkflowError(f"setup-python wants {wanted!r}; this interpreter is {have}")
            state.path_prefix.insert(0, str(self.python.parent))
            return f"python {have} from {self.python.parent}"
        if kind == "upload-artifact":
            name, source = inputs.get("name", ""), inputs.get("path", "")
            if not name or not source or "\n" in source.strip():
                raise WorkflowError("upload-artifact: this runner needs one name and one path")
            store = self.artifacts / name
            if store.exists():
                raise _ActionFailed(f"an artifact named {name!r} already exists in this run")
            path = _inside(state.workspace, source)
            if not path.exists():
                if inputs.get("if-no-files-found", "warn") == "error":
                    raise _ActionFailed(f"no files found at {source}")
                return f"warning: no files found at {source}"
            if path.is_dir():
                shutil.copytree(path, store)
            else:
                store.mkdir()
                shutil.copyfile(path, store / path.name)
            return f"uploaded {name}: {sorted(p.name for p in store.iterdir())}"
        if kind == "download-artifact":
            name = inputs.get("name", "")
            if not name:
                raise WorkflowError("download-artifact: this runner needs a name")
            store = self.artifacts / name
            if not store.is_dir():
                raise _ActionFailed(f"Artifact not found for name: {name}")
            target = _inside(state.workspace, inputs.get("path", ""))
            shutil.copytree(store, target, dirs_exist_ok=True)
            return f"downloaded {name} to {target}"
        raise WorkflowError(f"no local equivalent for action kind {kind!r}")


class _ActionFailed(Exception):
    """The action would fail on GitHub too (missing artifact, missing files)."""


@dataclass
class _JobState:
    workspace: Path
    temp: Path
    base_env: dict[str, str]
    env: dict[str, str]  # workflow and job env: blocks, evaluated
    needs: Mapping[str, str]
    replace: dict[str, str]
    default_shell: str | None
    default_timeout: float
    default_directory: str | None = None
    exported: dict[str, str] = field(default_factory=dict)  # GITHUB_ENV
    path_prefix: list[str] = field(default_factory=list)  # GITHUB_PATH and setup-python
    summaries: list[str] = field(default_factory=list)
    failed: bool = False

    @property
    def summary(self) -> str:
        return "".join(self.summaries)

    def step_env(self) -> dict[str, str]:
        """GitHub's order: runner, workflow env, job env, GITHUB_ENV, then the step's env."""
        env = {**self.base_env, **self.env, **self.exported}
        env["PATH"] = os.pathsep.join([*self.path_prefix, self.base_env["PATH"]])
        return env

    def context(self, variables: Mapping[str, str]) -> Context:
        return Context(
            allowed=frozenset({"github", "needs", "vars", "env", "runner", "functions"}),
            env={**self.env, **self.exported},
            vars=variables,
            workspace=str(self.workspace),
            runner_temp=str(self.temp),
            needs=self.needs,
            failed=self.failed,
        )


_ACTIONS = {
    "actions/checkout": "checkout",
    "actions/setup-python": "setup-python",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
}


def _action_kind(uses: str) -> str:
    action = uses.split("@", 1)[0]
    if action not in _ACTIONS:
        raise WorkflowError(f"no local equivalent for {uses!r}")
    return _ACTIONS[action]


def _inside(workspace: Path, relative: str) -> Path:
    """A path the workflow names, kept inside the job's workspace (absolute paths allowed
    only when they already are inside, e.g. built from github.workspace or runner.temp)."""
    path = Path(relative) if relative else workspace
    path = (path if path.is_absolute() else workspace / path).resolve()
    allowed = (workspace.resolve(), workspace.resolve().parent)
    if not any(path.is_relative_to(base) for base in allowed):
        raise WorkflowError(f"path {relative!r} leaves the job's folders")
    return path


def _read_env_file(path: Path) -> dict[str, str]:
    """GITHUB_ENV lines: ``NAME=value`` or ``NAME<<DELIMITER`` ... ``DELIMITER``."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            index += 1
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        index += 1
    return values
