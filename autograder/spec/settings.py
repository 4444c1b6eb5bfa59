"""Typed view of ``grading.toml``, the one instructor-editable file of limits and tolerances.

The packaged TOML file is the single source of values: each key has a comment
there saying what it bounds and which measurement it comes from. An override
file (``--settings``) is laid over it and needs only the keys it changes.
Unknown keys are an error, so a misspelt option can never be silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from autograder.spec import paths

DEFAULT_SETTINGS_PATH = paths.PACKAGE / "grading.toml"


@dataclass(frozen=True)
class Limits:
    """Resource limits for one exercise's child process (values: grading.toml)."""

    memory_mib: int
    exercise_timeout_s: float
    import_timeout_s: float
    check_grace_s: float
    output_limit_kib: int
    file_size_mib: int
    timeout_scale: float


@dataclass(frozen=True)
class Tolerances:
    """Timing verdicts, all ratios measured in the same run (values: grading.toml)."""

    numpy_growth_max: float
    python_growth_min: float
    reported_ratio_min: float
    reported_ratio_max: float
    time_fn_rel_error: float
    rnn_slope_min: float
    rnn_slope_max: float
    reduction_ratio_max: float
    attention_flatness_max: float


@dataclass(frozen=True)
class Lease:
    """The machine-wide device lease (values: grading.toml; grading/processes/device_lease.py)."""

    dir: str  # folder of the lock files; "off" for none ($AUTOGRADER_LEASE_DIR overrides)
    wait_max_s: float


@dataclass(frozen=True)
class Settings:
    limits: Limits
    tolerances: dict[str, Tolerances]  # per device: "cpu", "cuda"
    lease: Lease = Lease(dir="/tmp", wait_max_s=900.0)

    def tolerances_for(self, device: str) -> Tolerances:
        return self.tolerances["cuda" if device.startswith("cuda") else "cpu"]


def _build(cls: type, table: dict[str, Any], where: str) -> Any:
    known = {f.name: f.type for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    missing = sorted(set(known) - set(table))
    if missing:
        raise ValueError(f"{where}: missing setting(s) {', '.join(missing)}")
    return cls(**{key: float(v) if known[key] == "float" else v for key, v in table.items()})


def _read(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"cannot read settings {path}: {error}") from error
    unknown = sorted(set(data) - {"limits", "tolerances", "lease"})
    unknown += [f"tolerances.{d}" for d in data.get("tolerances", {}) if d not in ("cpu", "cuda")]
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {', '.join(unknown)}")
    return data


def load_settings(path: Path | None = None) -> Settings:
    """The packaged ``grading.toml``, with the keys of ``path`` (if given) laid over it.

    An override file needs only the keys it changes; every key must exist in the
    packaged file, so a misspelt name is an error, never silently ignored.
    """
    base = _read(DEFAULT_SETTINGS_PATH)
    override = _read(path) if path else {}
    where = str(path or DEFAULT_SETTINGS_PATH)
    limits = {**base.get("limits", {}), **override.get("limits", {})}
    tolerances = {
        device: _build(
            Tolerances,
            {
                **base.get("tolerances", {}).get(device, {}),
                **override.get("tolerances", {}).get(device, {}),
            },
            f"{where} [tolerances.{device}]",
        )
        for device in ("cpu", "cuda")
    }
    lease = {**base.get("lease", {}), **override.get("lease", {})}
    return Settings(
        limits=_build(Limits, limits, f"{where} [limits]"),
        tolerances=tolerances,
        lease=_build(Lease, lease, f"{where} [lease]"),
    )
