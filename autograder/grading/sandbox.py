"""Placeholder until the bubblewrap sandbox lands: workers run unconfined (kind "none")."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class SandboxUnavailable(Exception):
    """`--sandbox bubblewrap` where bwrap cannot start."""


@dataclass(frozen=True)
class Sandbox:
    kind: str
    reason: str
    bwrap: str | None = None

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason}


def resolve(mode: str) -> Sandbox:
    if mode not in ("auto", "bubblewrap", "none"):
        raise ValueError(f"unknown sandbox {mode!r}: use auto, bubblewrap or none")
    if mode == "bubblewrap":
        raise SandboxUnavailable("bubblewrap support is not built yet")
    return Sandbox("none", "no sandbox support yet")


def worker_command(
    sandbox: Sandbox,
    argv: list[str],
    *,
    job_dir: Path,
    device: str,
    env: dict[str, str],
    scratch_mib: int = 256,
) -> tuple[list[str], dict[str, str], Path | None, Callable[[], None] | None]:
    scratch = Path(tempfile.mkdtemp(prefix="worker-scratch-"))
    return argv, {**env, "HOME": str(scratch), "TMPDIR": str(scratch)}, scratch, None
