"""A headless Chromium for the page tests (tests/test_report.py, tests/test_ta_pages.py).

Found on PATH, or installed by tests/tools/ensure_chromium.sh (Debian's package, as root or
through passwordless sudo). Where it cannot be installed the test skips locally; under
CI=true that skip fails the run (tests/conftest.py).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
ENSURE_CHROMIUM = Path(__file__).resolve().parent / "tools" / "ensure_chromium.sh"


def find_or_install_chromium() -> str:
    """A headless browser on PATH, installed by tests/tools/ensure_chromium.sh when missing."""
    found = next(filter(None, map(shutil.which, BROWSERS)), None)
    if found:
        return found
    try:
        done = subprocess.run(
            [str(ENSURE_CHROMIUM)], capture_output=True, text=True, timeout=900, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"could not run {ENSURE_CHROMIUM.name}: {error}")
    if done.returncode != 0:
        pytest.skip(f"{ENSURE_CHROMIUM.name} failed: {done.stderr[-500:]}")
    found = next(filter(None, map(shutil.which, BROWSERS)), None)
    if not found:
        pytest.fail(f"{ENSURE_CHROMIUM.name} succeeded but no browser is on PATH: {done.stdout}")
    return found


def run_chromium(binary: str, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """One headless run on ``page`` with a fresh profile (no state shared between runs)."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
