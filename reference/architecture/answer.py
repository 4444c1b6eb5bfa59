"""The picker's five-part answer: the recommendation and the figures it carries."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Refusal:
    """What the picker would not recommend, why, and what it recommends in its place."""

    ruled_out: str
    why: str
    instead: str


@dataclass(frozen=True)
class ContextStrategy:
    """How the pick covers seq_len; fields that do not apply to its family are None."""

    summary: str
    full_attention_cutoff: int | None
    sliding_window: int | None
    rope_scaling: float | None
    scan_chunk: int | None
    hidden_width: int | None


@dataclass(frozen=True)
class TrainingFlops:
    """Approximate training cost, and whether the token budget trains the model fully."""

    summary: str
    formula: str
    flops_per_token: float
    total_flops: float
    accelerator_days: float
    compute_optimal_tokens: int
    budget_covers: bool


@dataclass(frozen=True)
class InferenceMemory:
    """Memory to serve one batch, whether the device holds batch size 1, and decode speed."""

    summary: str
    weights_bytes: int
    per_sequence_bytes: int
    total_bytes: int
    device_bytes: int
    fits_batch_size_1: bool
    max_batch_size: int
    decode_ms_per_token: float
    meets_latency_target: bool | None


@dataclass(frozen=True)
class Recommendation:
    """The five-part answer, plus the trade-off, the fallback and any refusal."""

    pick: str
    family: str
    reason: str
    trade_off: str
    refused: Refusal | None
    fallback: str
    context_strategy: ContextStrategy
    training_flops: TrainingFlops
    inference_memory: InferenceMemory
    failure_mode: str
    rows_matched: tuple[str, ...]
    row_used: str
    assumptions: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (``refused`` is None when nothing was refused)."""
        data = asdict(self)
        data["rows_matched"] = list(self.rows_matched)
        return data
