"""Typed view of ``grading.toml``, the one instructor-editable file of limits and tolerances.

Every key has a default here and a comment in the TOML file saying what it
bounds and which measurement it comes from. Unknown keys are an error, so a
misspelt option can never be silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULT_SETTINGS_PATH = Path(__file__).with_name("grading.toml")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one exercise's child process."""

    memory_mib: int = 4096
    exercise_timeout_s: float = 600.0
    import_timeout_s: float = 60.0
    check_grace_s: float = 10.0
    output_limit_kib: int = 8
    file_size_mib: int = 64
    timeout_scale: float = 1.0


@dataclass(frozen=True)
class Tolerances:
    """Timing verdicts, all ratios measured in the same run (never absolute times)."""

    numpy_growth_max: float = 4.0
    python_growth_min: float = 8.0
    reported_ratio_min: float = 0.33
    reported_ratio_max: float = 3.0
    time_fn_rel_error: float = 0.25
    rnn_slope_min: float = 0.7
    rnn_slope_max: float = 1.3
    reduction_ratio_max: float = 4.0
    attention_flatness_max: float = 4.0


@dataclass(frozen=True)
class Settings:
    limits: Limits
    tolerances: dict[str, Tolerances]  # per device: "cpu", "cuda"

    def tolerances_for(self, device: str) -> Tolerances:
        return self.tolerances["cuda" if device.startswith("cuda") else "cpu"]


def _build(cls: type, table: dict[str, Any], where: str) -> Any:
    known = {f.name: f.type for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    return cls(**{key: float(v) if known[key] == "float" else v for key, v in table.items()})


def load_settings(path: Path | None = None) -> Settings:
    """Read grading settings; ``path`` None means the packaged ``grading.toml``."""
    path = path or DEFAULT_SETTINGS_PATH
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"cannot read settings {path}: {error}") from error
    unknown = sorted(set(data) - {"limits", "tolerances"})
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {', '.join(unknown)}")
    limits = _build(Limits, data.get("limits", {}), f"{path} [limits]")
    tolerances = {
        device: _build(Tolerances, data.get("tolerances", {}).get(device, {}), f"{path} [{device}]")
        for device in ("cpu", "cuda")
    }
    return Settings(limits=limits, tolerances=tolerances)


def settings_to_dict(settings: Settings) -> dict[str, Any]:
    """Plain-data form, passed to the grading child as JSON."""
    return {
        "limits": {f.name: getattr(settings.limits, f.name) for f in fields(Limits)},
        "tolerances": {
            device: {f.name: getattr(tol, f.name) for f in fields(Tolerances)}
            for device, tol in settings.tolerances.items()
        },
    }


def settings_from_dict(data: dict[str, Any]) -> Settings:
    return Settings(
        limits=Limits(**data["limits"]),
        tolerances={device: Tolerances(**tol) for device, tol in data["tolerances"].items()},
    )
