"""Which torch build ``make`` installs: the pip options for ``pip install``, one per line.

``torch==2.13.0`` from PyPI is the CUDA build on Linux x86-64: a 527 MB wheel that pulls in
NVIDIA's CUDA libraries and triton, 2.7 GB to download in all (measured 2026-12-04 with
``pip install --dry-run --report``, then each file's size). The CPU wheel from PyTorch's CPU
index is 192 MB. So on Linux without CUDA the Makefile adds that index, unless

* pip already has its own package sources (an index, extra index or find-links in pip's
  configuration files, or ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL`` / ``PIP_FIND_LINKS`` /
  ``PIP_NO_INDEX``): those are used as they are, so a mirror, an offline wheel folder or CI
  is never made to wait on an index it cannot reach;
* the student asks for the CUDA build: ``make grade TORCH=cuda``;
* CUDA is present (``nvidia-smi`` on PATH or the NVIDIA driver loaded): the default CUDA
  build; ``make grade TORCH=cpu`` keeps the CPU wheel anyway;
* the platform is not Linux: PyPI's torch for macOS and Windows is already CPU-sized.

Standard library only: it runs with the new virtual environment's interpreter before
anything is installed. Prints the options on stdout (nothing: pip's defaults) and the
reason on stderr. ``tests/test_setup.py`` feeds :func:`decide` fake configurations.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CHOICES = ("auto", "cpu", "cuda")
SOURCE_KEYS = ("index-url", "extra-index-url", "find-links", "no-index")
"""pip options that say where packages come from (a pip config key ends with one of them)."""
SOURCE_ENV = tuple("PIP_" + key.upper().replace("-", "_") for key in SOURCE_KEYS)


@dataclass(frozen=True)
class Decision:
    """The pip options to add and why (the reason is printed for the user)."""

    options: tuple[str, ...]
    reason: str


def configured_sources(pip_config: str, environ: Mapping[str, str]) -> list[str]:
    """pip's own package-source settings: ``key=value`` from ``pip config list``, PIP_* vars."""
    found = []
    for line in pip_config.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().rsplit(".", 1)[-1] in SOURCE_KEYS:
            found.append(f"{key.strip()}={value.strip()}")
    found += [f"{name}={environ[name]}" for name in SOURCE_ENV if environ.get(name, "").strip()]
    return found


def decide(
    choice: str,
    *,
    pip_config: str,
    environ: Mapping[str, str],
    system: str,
    has_cuda: bool,
) -> Decision:
    """The torch build to install for ``TORCH=choice`` (auto, cpu or cuda) on this machine."""
    if choice not in CHOICES:
        raise ValueError(f"TORCH={choice!r}: use one of {', '.join(CHOICES)}")
    if choice == "cuda":
        return Decision((), "torch: the CUDA build from pip's sources (TORCH=cuda)")
    sources = configured_sources(pip_config, environ)
    if sources:
        return Decision(
            (), f"torch: pip's own package sources, used as they are ({'; '.join(sources)})"
        )
    if choice == "auto" and has_cuda:
        return Decision((), "torch: the CUDA build (CUDA found; TORCH=cpu for the CPU wheel)")
    if choice == "auto" and system != "Linux":
        return Decision((), f"torch: PyPI's {system} wheel (CPU-sized already)")
    return Decision(
        ("--extra-index-url", CPU_INDEX),
        f"torch: the CPU wheel from {CPU_INDEX} (192 MB; TORCH=cuda: the CUDA build, 2.7 GB)",
    )


def cuda_present() -> bool:
    """The NVIDIA driver is loaded or its tool is installed."""
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/version").exists()


def pip_config_list() -> str:
    """``pip config list`` of this interpreter's pip (empty when pip cannot say)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def main(argv: list[str]) -> int:
    choice = argv[0] if argv else os.environ.get("TORCH", "auto")
    try:
        decision = decide(
            choice or "auto",
            pip_config=pip_config_list(),
            environ=os.environ,
            system=platform.system(),
            has_cuda=cuda_present(),
        )
    except ValueError as error:
        print(f"make: {error}", file=sys.stderr)
        return 2
    print(decision.reason, file=sys.stderr)
    print("\n".join(decision.options))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
