"""The lesson's "Ship It" skill as code: pick a sequence architecture from hard constraints.

``python -m reference.architecture --seq-len N --training-tokens T`` answers in five parts
(pick and reason, context-length strategy, training FLOPs, inference memory, failure mode),
always with the trade-off and a fallback. ``outputs/skill-architecture-picker.md`` is the
same skill in the course's Markdown format; its worked examples are this CLI's real output.

Decision table (the lesson's "Use It" table), checked in this order, first match wins:

1. ``edge``: no matmul accelerator -> depthwise-separable RNN. The hardware is the hardest
   constraint (nothing else changes it), and an elementwise recurrence with constant memory
   also serves streaming and very long inputs, so this row beats the others.
2. ``streaming``: one token at a time, constant memory -> gated RNN; if the context is also
   above 1M tokens, Mamba 2, the model both rows name (a GRU cannot learn through 1M steps).
3. ``long-context``: seq_len > 1_000_000 -> Mamba 2 (linear time, constant-size state).
4. ``gap``: 131_072 < seq_len <= 1_000_000 is not in the table. Full attention is O(N^2)
   there and a pure SSM loses exact recall, so we pick a hybrid SSM+attention model
   (Samba-style: Mamba 2 layers alternating with sliding-window attention); its fallback is
   a transformer with sliding-window and global layers, the mature version of the same idea.
5. ``default``: everything else (training, batched inference, context up to 128K) ->
   transformer. "128K" means 131_072 = 128 * 1024 tokens, and "up to" includes it.

Refusal rule: when the table picks a pure RNN (family ``rnn``) for a training run above 1B
tokens (``training_tokens > 1_000_000_000``; exactly 1B is not above), the pick is refused:
``refused`` says what was ruled out, why (gradients through N non-linearities, serial depth
N per sequence) and what to use instead, an SSM that trains as a parallel scan and still runs
as a recurrence. ``accept_rnn_tradeoff=True`` keeps the RNN, and the trade-off then names
both penalties. Every RNN trade-off names them anyway.

Guard rules: a transformer above 64K context (65_536) gets the O(N^2) memory cost named in
its context strategy and trade-off; every pick carries a named fallback, so nothing younger
than 12 months goes to production without one. All model assumptions are the constants
below; the numbers are estimates for choosing, not for capacity planning.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import textwrap
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from reference.cli_support import OneLineParser, UsageError

# The answer's family vocabulary. "linear-attention" is part of it for callers and the JSON
# schema, but the > 1M row picks Mamba 2 (itself a structured linear attention, SSD) and only
# names linear attention and Hyena as that row's alternatives.
FAMILIES = ("transformer", "ssm", "linear-attention", "rnn", "hybrid")

# Table thresholds (tokens). "Above" is strict: seq_len == LONG_CONTEXT is not long-context.
CONTEXT_128K = 131_072  # "context up to 128K", 128 * 1024, inclusive
FULL_ATTENTION_GUARD = 65_536  # 64K: above this, full attention must name its O(N^2) cost
LONG_CONTEXT = 1_000_000  # "very long sequences (> 1M tokens)"
RNN_TRAINING_TOKEN_LIMIT = 1_000_000_000  # no pure RNN for training runs above this
MAX_COUNT = 10**18  # upper bound for every count input; keeps the float arithmetic finite

# Model assumptions, used when the caller does not say.
DEFAULT_PARAMS = 1_000_000_000  # parameter count on a device with a matmul accelerator
DEFAULT_EDGE_PARAMS = 10_000_000  # parameter count for an edge device without one
DEFAULT_DEVICE_MEMORY_GIB = 80.0  # one datacenter accelerator (H100-class)
DEFAULT_EDGE_MEMORY_GIB = 4.0  # phone or embedded board
ACCELERATOR_BANDWIDTH = 3.35e12  # bytes/s, H100 SXM HBM3; decoding is bandwidth-bound
EDGE_BANDWIDTH = 5.0e10  # bytes/s, LPDDR5-class memory
SUSTAINED_TRAINING_FLOPS = 4.0e14  # FLOP/s per accelerator: H100 bf16 dense at ~40% MFU
TOKENS_PER_PARAM = 20  # compute-optimal training tokens per parameter (Chinchilla, 2022)
WIDTH_PER_LAYER = 128  # d_model / n_layers, as in GPT-3; with 12 * L * d^2 gives the shape
WEIGHT_BYTES = 2  # bf16 weights and KV cache
STATE_BYTES = 4  # fp32 recurrent state (SSM and RNN)

# Context-length strategy constants.
PRETRAIN_CONTEXT = 8_192  # transformer pre-training length; RoPE is scaled from here
SLIDING_WINDOW = 4_096  # local attention window (transformer local layers, hybrid)
GLOBAL_ATTENTION_EVERY = 4  # above 64K, one full-attention layer in every 4
SCAN_CHUNK = 256  # Mamba 2 (SSD) chunk length for the chunked parallel scan
SSM_STATE_SIZE = 128  # Mamba 2 d_state
SSM_EXPAND = 2  # Mamba d_inner = SSM_EXPAND * d_model
SSM_CONV_WIDTH = 4  # Mamba's short causal convolution; keeps width - 1 inputs as state


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


@dataclass(frozen=True)
class ModelShape:
    """Model shape derived from the parameter count (transformer-equivalent blocks)."""

    d_model: int
    n_layers: int


def model_shape(params: int) -> ModelShape:
    """Width and depth for ``params``: 12 * L * d^2 parameters with d = WIDTH_PER_LAYER * L.

    Every family uses this shape so that their memory and FLOPs compare at equal size;
    SSM and RNN layers hold about half a transformer block's parameters, so they get 2 * L.
    """
    d_model = max(64, round((params * WIDTH_PER_LAYER / 12) ** (1 / 3) / 64) * 64)
    n_layers = max(1, round(params / (12 * d_model * d_model)))
    return ModelShape(d_model=d_model, n_layers=n_layers)


def pick_architecture(
    *,
    seq_len: int,
    training_tokens: int,
    streaming: bool = False,
    matmul_accelerator: bool = True,
    batch_size: int = 1,
    params: int | None = None,
    device_memory_gib: float | None = None,
    latency_ms: float | None = None,
    accept_rnn_tradeoff: bool = False,
) -> Recommendation:
    """Pick an architecture for a sequence problem; see the module docstring for the rules.

    seq_len is the longest context the model must use (tokens), training_tokens the training
    budget (0: no training run). params and device_memory_gib default to DEFAULT_* constants
    for the device class; latency_ms, when given, is checked against a bandwidth-bound decode
    estimate. accept_rnn_tradeoff keeps a pure RNN above 1B training tokens, trade-off stated.
    """
    _check_count("seq_len", seq_len, minimum=1)
    _check_count("training_tokens", training_tokens, minimum=0)
    _check_count("batch_size", batch_size, minimum=1)
    if params is None:
        params = DEFAULT_PARAMS if matmul_accelerator else DEFAULT_EDGE_PARAMS
    _check_count("params", params, minimum=1)
    if device_memory_gib is None:
        device_memory_gib = (
            DEFAULT_DEVICE_MEMORY_GIB if matmul_accelerator else DEFAULT_EDGE_MEMORY_GIB
        )
    _check_positive("device_memory_gib", device_memory_gib)
    if latency_ms is not None:
        _check_positive("latency_ms", latency_ms)

    rows = _rows_matched(seq_len, streaming, matmul_accelerator)
    row = rows[0]
    choice = _TABLE[row](seq_len, rows)
    refused = None
    if choice.family == "rnn" and training_tokens > RNN_TRAINING_TOKEN_LIMIT:
        if accept_rnn_tradeoff:
            choice = _accepted_rnn(choice, seq_len, training_tokens)
        else:
            replacement = _rnn_replacement(choice, matmul_accelerator)
            refused = _refusal(choice, replacement, seq_len, training_tokens)
            choice = replacement

    shape = model_shape(params)
    device_bytes = int(device_memory_gib * 2**30)
    bandwidth = ACCELERATOR_BANDWIDTH if matmul_accelerator else EDGE_BANDWIDTH
    assumptions = {
        "params": params,
        "d_model": shape.d_model,
        "n_layers": shape.n_layers,
        "device_memory_gib": device_memory_gib,
        "bandwidth_bytes_per_s": bandwidth,
        "sustained_training_flops": SUSTAINED_TRAINING_FLOPS,
        "tokens_per_param": TOKENS_PER_PARAM,
        "weight_bytes": WEIGHT_BYTES,
        "state_bytes": STATE_BYTES,
    }
    return Recommendation(
        pick=choice.pick,
        family=choice.family,
        reason=choice.reason,
        trade_off=choice.trade_off,
        refused=refused,
        fallback=choice.fallback,
        context_strategy=_context_strategy(choice.family, seq_len, shape),
        training_flops=_training_flops(choice.family, seq_len, training_tokens, params, shape),
        inference_memory=_inference_memory(
            choice.family,
            seq_len,
            params,
            shape,
            batch_size=batch_size,
            device_bytes=device_bytes,
            bandwidth=bandwidth,
            latency_ms=latency_ms,
        ),
        failure_mode=choice.failure_mode,
        rows_matched=tuple(rows),
        row_used=row,
        assumptions=assumptions,
    )


# --- the decision table ---------------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    """The qualitative part of an answer; the numbers are computed from the family."""

    pick: str
    family: str
    reason: str
    trade_off: str
    fallback: str
    failure_mode: str


def _rows_matched(seq_len: int, streaming: bool, matmul_accelerator: bool) -> list[str]:
    """Every table row that applies, in precedence order; the first one decides."""
    rows = []
    if not matmul_accelerator:
        rows.append("edge")
    if streaming:
        rows.append("streaming")
    if seq_len > LONG_CONTEXT:
        rows.append("long-context")
    elif seq_len > CONTEXT_128K:
        rows.append("gap")
    else:
        rows.append("default")
    return rows


def _edge(seq_len: int, rows: list[str]) -> _Choice:
    return _Choice(
        pick="depthwise-separable RNN",
        family="rnn",
        reason=(
            "The device has no matmul accelerator, so FLOPs per watt decides, and a "
            "depthwise-separable RNN does an elementwise recurrence plus small pointwise "
            "projections with constant memory per token."
        ),
        trade_off=(
            "Lowest FLOPs/watt and constant memory on matmul-less hardware, paid for in "
            f"training: {_rnn_penalties(seq_len)}"
        ),
        fallback=(
            "depthwise-separable temporal convolution (TCN): the same FLOPs/watt profile, "
            "trains in parallel over time, but its receptive field is fixed"
        ),
        failure_mode=(
            "Quantised to int8 for the edge device, the recurrence compounds its rounding "
            "error every step, so the hidden state drifts over long streams; validate on "
            "the longest stream you serve and reset or renormalise the state periodically."
        ),
    )


def _streaming(seq_len: int, rows: list[str]) -> _Choice:
    if "long-context" in rows:
        return _Choice(
            pick="Mamba 2 (state-space model)",
            family="ssm",
            reason=(
                "Streaming with a context above 1M tokens: Mamba 2 is in both table rows, "
                "constant memory per token and linear time at any length, and it trains as "
                "a parallel scan."
            ),
            trade_off=_SSM_TRADE_OFF,
            fallback=_SLIDING_FALLBACK,
            failure_mode=_SSM_FAILURE,
        )
    return _Choice(
        pick="gated RNN (GRU)",
        family="rnn",
        reason=(
            "Streaming inference needs constant memory per token, which a recurrent hidden "
            "state gives and a transformer's growing KV cache does not."
        ),
        trade_off=(
            "Constant memory and a mature, simple model for streaming, paid for in training: "
            f"{_rnn_penalties(seq_len)}"
        ),
        fallback=_SLIDING_FALLBACK,
        failure_mode=(
            "Vanishing gradients: dependencies more than a few hundred steps back are not "
            "learned, and truncated backpropagation through time caps the learnable range "
            "at its window."
        ),
    )


def _long_context(seq_len: int, rows: list[str]) -> _Choice:
    return _Choice(
        pick="Mamba 2 (state-space model)",
        family="ssm",
        reason=(
            f"The context ({seq_len:,} tokens) is above 1M, where attention memory explodes; "
            "Mamba 2 runs in linear time with a constant-size state and trains as a parallel "
            "scan (linear attention and Hyena are the other options in this row)."
        ),
        trade_off=_SSM_TRADE_OFF,
        fallback=_SLIDING_FALLBACK,
        failure_mode=_SSM_FAILURE,
    )


def _gap(seq_len: int, rows: list[str]) -> _Choice:
    return _Choice(
        pick="hybrid SSM+attention (Samba-style: Mamba 2 + sliding-window attention)",
        family="hybrid",
        reason=(
            f"The context ({seq_len:,} tokens) is past 128K, where full attention's O(N^2) "
            "cost dominates, but not past 1M: a hybrid lets SSM layers carry the length in "
            "linear time and keeps attention layers for precise local recall."
        ),
        trade_off=(
            "Linear time and a bounded cache at this length, with attention's recall inside "
            "the window; costs two kinds of kernels and a younger recipe than the transformer."
        ),
        fallback=(
            f"transformer with sliding-window attention ({SLIDING_WINDOW:,}) in 3 of every "
            f"{GLOBAL_ATTENTION_EVERY} layers and RoPE scaling, whose global layers pay "
            "O(N^2) compute"
        ),
        failure_mode=(
            "Exact recall beyond the attention window (needle-in-a-haystack, copying) rests "
            "on the fixed-size SSM state, which is lossy: retrieval accuracy falls with "
            "distance; test it at the full target length."
        ),
    )


def _default(seq_len: int, rows: list[str]) -> _Choice:
    over_guard = seq_len > FULL_ATTENTION_GUARD
    trade_off = (
        "Parallel training (no step-to-step dependency) and the best in-context recall, paid "
        "for with a KV cache that grows linearly with context and attention memory and "
        "compute that grow as O(N^2)."
    )
    if over_guard:
        trade_off += (
            f" Above 64K ({FULL_ATTENTION_GUARD:,}) that O(N^2) cost is why only the global "
            "layers keep full attention (numbers under context)."
        )
    return _Choice(
        pick="transformer (local + global attention)" if over_guard else "transformer",
        family="transformer",
        reason=(
            f"The context ({seq_len:,} tokens) is within 128K (131,072) and nothing forces "
            "recurrence, so the transformer's parallel training and batched inference win."
        ),
        trade_off=trade_off,
        fallback=(
            "the same transformer with grouped-query attention (8 KV heads) and "
            f"sliding-window attention ({SLIDING_WINDOW:,}) if the KV cache does not fit"
        ),
        failure_mode=(
            f"Beyond the {PRETRAIN_CONTEXT:,}-token pre-training length, RoPE positions "
            "extrapolate badly unless scaled and fine-tuned at length, and recall of facts "
            "in the middle of the context drops ('lost in the middle')."
            if seq_len > PRETRAIN_CONTEXT
            else "Attention-logit growth causes loss spikes or divergence in bf16 at large "
            "learning rates; QK-norm or a z-loss keeps the logits bounded."
        ),
    )


_TABLE = {
    "edge": _edge,
    "streaming": _streaming,
    "long-context": _long_context,
    "gap": _gap,
    "default": _default,
}

_SSM_TRADE_OFF = (
    "Linear time and a constant-size state at any length, with parallel-scan training; "
    "costs weaker exact recall than attention and younger kernels and tooling."
)
_SSM_FAILURE = (
    "Associative recall and copying: a fixed-size state cannot keep arbitrary earlier "
    "tokens verbatim, so SSMs trail transformers on in-context retrieval (phone-book "
    "lookup, needle-in-a-haystack)."
)
_SLIDING_FALLBACK = (
    f"transformer with sliding-window attention ({SLIDING_WINDOW:,}) and a rolling KV cache: "
    "mature, constant memory per stream, but no recall beyond the window"
)


def _rnn_penalties(seq_len: int) -> str:
    """The two costs the guard rule says a pure RNN must name."""
    return (
        f"gradients reach a token k steps back only through k non-linearities (up to "
        f"N = {seq_len:,}), so they vanish or explode; and there is no parallelism over time: "
        f"serial depth N = {seq_len:,} per sequence in training (batching helps only across "
        "sequences)."
    )


def _accepted_rnn(choice: _Choice, seq_len: int, training_tokens: int) -> _Choice:
    """Keep the pure RNN above 1B tokens because the caller accepted its stated trade-off."""
    trade_off = (
        f"Trade-off accepted by the caller for a {training_tokens:,}-token training run: "
        f"{_rnn_penalties(seq_len)}"
    )
    return _Choice(
        pick=choice.pick,
        family=choice.family,
        reason=choice.reason,
        trade_off=trade_off,
        fallback=choice.fallback,
        failure_mode=choice.failure_mode,
    )


def _refusal(choice: _Choice, replacement: _Choice, seq_len: int, training_tokens: int) -> Refusal:
    """Ruled out / why / instead, with the gradient-flow and parallelism penalties named."""
    return Refusal(
        ruled_out=f"pure RNN ({choice.pick})",
        why=(
            f"a {training_tokens:,}-token training run is above 1B tokens, and a pure RNN "
            f"pays for it twice: {_rnn_penalties(seq_len)}"
        ),
        instead=replacement.pick,
    )


def _rnn_replacement(choice: _Choice, matmul_accelerator: bool) -> _Choice:
    """The SSM that keeps the RNN's inference profile but trains as a parallel scan."""
    if not matmul_accelerator:
        return _Choice(
            pick="diagonal state-space model (S4D/Mamba-style)",
            family="ssm",
            reason=(
                "Above 1B training tokens a pure RNN is ruled out; a diagonal SSM trains as a "
                "parallel scan on accelerators and runs on the matmul-less device as an "
                "elementwise recurrence with constant memory."
            ),
            trade_off=(
                "Keeps the RNN's constant memory and elementwise recurrence at inference and "
                "trains as a parallel scan; costs weaker exact recall than attention and needs "
                "accelerator hardware for training."
            ),
            fallback=choice.fallback,
            failure_mode=_SSM_FAILURE,
        )
    return _Choice(
        pick="Mamba (state-space model)",
        family="ssm",
        reason=(
            "Streaming needs constant memory per token and the run is above 1B training "
            "tokens: Mamba runs as a recurrence at inference but trains as a parallel scan."
        ),
        trade_off=_SSM_TRADE_OFF,
        fallback=_SLIDING_FALLBACK,
        failure_mode=_SSM_FAILURE,
    )


def _quadratic_cost(seq_len: int) -> str:
    """The guard rule's O(N^2) statement, with the number for this seq_len."""
    scores = seq_len * seq_len
    return (
        f"Full attention is O(N^2) in memory: at N = {seq_len:,} each layer's score matrix "
        f"has {_sci(scores)} entries per head ({_bytes(scores * WEIGHT_BYTES)} in bf16 if "
        "materialised; FlashAttention avoids storing it but not the O(N^2) compute)."
    )


# --- the numeric parts ----------------------------------------------------------------


def _attention_layers(seq_len: int, shape: ModelShape) -> tuple[int, int]:
    """(full-attention layers, sliding-window layers) of the transformer at seq_len."""
    if seq_len <= FULL_ATTENTION_GUARD:
        return shape.n_layers, 0
    global_layers = math.ceil(shape.n_layers / GLOBAL_ATTENTION_EVERY)
    return global_layers, shape.n_layers - global_layers


def _hybrid_layers(shape: ModelShape) -> tuple[int, int]:
    """(attention layers, SSM layers) of the hybrid: mixers alternate, attention first."""
    attention = math.ceil(shape.n_layers / 2)
    return attention, shape.n_layers - attention


def _context_strategy(family: str, seq_len: int, shape: ModelShape) -> ContextStrategy:
    """Part 2: full-attention cut-off, window and RoPE scaling; scan chunk; hidden width."""
    if family == "transformer":
        rope = seq_len / PRETRAIN_CONTEXT if seq_len > PRETRAIN_CONTEXT else None
        rope_text = (
            f"RoPE scaled x{rope:.3g} (YaRN) from the {PRETRAIN_CONTEXT:,}-token pre-training "
            "length, then a fine-tune at the target length"
            if rope
            else "RoPE unscaled"
        )
        if seq_len <= FULL_ATTENTION_GUARD:
            summary = f"Full attention over all {seq_len:,} tokens; {rope_text}."
            return ContextStrategy(summary, FULL_ATTENTION_GUARD, None, rope, None, None)
        global_layers, local_layers = _attention_layers(seq_len, shape)
        summary = (
            f"Full attention up to the {FULL_ATTENTION_GUARD:,}-token cut-off; beyond it, "
            f"{local_layers} of {shape.n_layers} layers use sliding-window attention "
            f"({SLIDING_WINDOW:,}) and {global_layers} stay global; {rope_text}. "
            + _quadratic_cost(seq_len)
        )
        return ContextStrategy(summary, FULL_ATTENTION_GUARD, SLIDING_WINDOW, rope, None, None)
    if family == "hybrid":
        attention, ssm = _hybrid_layers(shape)
        summary = (
            f"{ssm} Mamba 2 layers carry the {seq_len:,}-token context with a chunked scan "
            f"(chunk {SCAN_CHUNK}); {attention} sliding-window attention layers "
            f"({SLIDING_WINDOW:,}) give local recall; no full attention, no RoPE scaling."
        )
        return ContextStrategy(summary, None, SLIDING_WINDOW, None, SCAN_CHUNK, None)
    if family == "ssm":
        summary = (
            f"Chunked parallel scan with chunk {SCAN_CHUNK} over {seq_len:,} tokens in "
            f"training; a recurrence with a {SSM_STATE_SIZE}-wide state per channel at "
            "inference; no context cut-off."
        )
        return ContextStrategy(summary, None, None, None, SCAN_CHUNK, None)
    summary = (
        f"Hidden width {shape.d_model} in {2 * shape.n_layers} recurrent layers: everything "
        f"the model keeps of the {seq_len:,}-token context must fit in that state; no cut-off."
    )
    return ContextStrategy(summary, None, None, None, None, shape.d_model)


def _training_flops(
    family: str, seq_len: int, training_tokens: int, params: int, shape: ModelShape
) -> TrainingFlops:
    """Part 3: 6 * params per token plus the family's sequence-mixing term."""
    d = shape.d_model
    if family == "transformer":
        global_layers, local_layers = _attention_layers(seq_len, shape)
        attended = global_layers * seq_len + local_layers * min(SLIDING_WINDOW, seq_len)
        mixing = 6 * d * attended
        formula = "6*P + 6*d_model*attended_context_summed_over_layers, after Kaplan et al. 2020"
    elif family == "hybrid":
        attention, ssm = _hybrid_layers(shape)
        mixing = 6 * d * attention * min(SLIDING_WINDOW, seq_len)
        mixing += 6 * (2 * ssm) * SSM_EXPAND * d * SSM_STATE_SIZE
        formula = "6*P + 6*d_model*attention_layers*window + 6*ssm_layers*d_inner*d_state"
    elif family == "ssm":
        mixing = 6 * (2 * shape.n_layers) * SSM_EXPAND * d * SSM_STATE_SIZE
        formula = "6*P + 6*ssm_layers*d_inner*d_state for the scan's state update"
    else:
        mixing = 0
        formula = "6*P: the recurrence weights are in P, there is no attention term"
    per_token = float(6 * params + mixing)
    total = per_token * training_tokens
    days = total / SUSTAINED_TRAINING_FLOPS / 86_400
    optimal = TOKENS_PER_PARAM * params
    covers = training_tokens >= optimal
    if training_tokens == 0:
        summary = (
            f"~{_sci(per_token)} FLOPs per token ({formula}); no training run budgeted, so "
            "this needs pretrained weights."
        )
    else:
        verdict = "covers" if covers else "does not cover"
        summary = (
            f"~{_sci(per_token)} FLOPs per token ({formula}) x {training_tokens:,} tokens = "
            f"{_sci(total)} FLOPs (~{_sci(days)} accelerator-days at "
            f"{_sci(SUSTAINED_TRAINING_FLOPS)} FLOP/s); the budget {verdict} the "
            f"compute-optimal {optimal:,} tokens "
            f"({TOKENS_PER_PARAM}/param) for {params:,} parameters."
        )
        if family == "rnn":
            summary += " Serial depth over time keeps real utilisation well below that rate."
    return TrainingFlops(summary, formula, per_token, total, days, optimal, covers)


def _inference_memory(
    family: str,
    seq_len: int,
    params: int,
    shape: ModelShape,
    *,
    batch_size: int,
    device_bytes: int,
    bandwidth: float,
    latency_ms: float | None,
) -> InferenceMemory:
    """Part 4: weights plus per-sequence cache or state, against the device's memory."""
    d = shape.d_model
    kv_per_token_layer = 2 * d * WEIGHT_BYTES  # K and V
    ssm_state_layer = SSM_EXPAND * d * (SSM_STATE_SIZE + SSM_CONV_WIDTH - 1) * STATE_BYTES
    if family == "transformer":
        global_layers, local_layers = _attention_layers(seq_len, shape)
        per_sequence = kv_per_token_layer * (
            global_layers * seq_len + local_layers * min(SLIDING_WINDOW, seq_len)
        )
        what = "KV cache (multi-head, bf16; grows linearly with context)"
    elif family == "hybrid":
        attention, ssm = _hybrid_layers(shape)
        per_sequence = kv_per_token_layer * attention * min(SLIDING_WINDOW, seq_len)
        per_sequence += ssm_state_layer * ssm
        what = "window KV cache + SSM state (bounded, whatever the context)"
    elif family == "ssm":
        per_sequence = ssm_state_layer * 2 * shape.n_layers
        what = "SSM state (constant per token, whatever the context)"
    else:
        per_sequence = d * STATE_BYTES * 2 * shape.n_layers
        what = "RNN hidden state (constant per token, whatever the context)"
    weights = params * WEIGHT_BYTES
    total = weights + per_sequence * batch_size
    fits_one = weights + per_sequence <= device_bytes
    max_batch = max(0, (device_bytes - weights) // per_sequence) if per_sequence else 0
    decode_ms = (weights + per_sequence * batch_size) / bandwidth * 1_000
    meets = None if latency_ms is None else decode_ms <= latency_ms

    summary = (
        f"Weights {_bytes(weights)} (bf16) + {what} {_bytes(per_sequence)} per sequence "
        f"x batch {batch_size} = {_bytes(total)} of {_bytes(device_bytes)}: "
    )
    if not fits_one:
        summary += f"the device cannot hold batch size 1 (needs {_bytes(weights + per_sequence)})."
    elif total > device_bytes:
        summary += f"does not fit; at most {max_batch} sequences fit."
    else:
        summary += f"fits; up to {max_batch:,} sequences fit."
    summary += f" Decode >= {decode_ms:.3g} ms/token (memory-bandwidth bound)"
    if meets is None:
        summary += "."
    else:
        summary += f": {'meets' if meets else 'misses'} the {latency_ms:g} ms target."
    return InferenceMemory(
        summary=summary,
        weights_bytes=weights,
        per_sequence_bytes=per_sequence,
        total_bytes=total,
        device_bytes=device_bytes,
        fits_batch_size_1=fits_one,
        max_batch_size=max_batch,
        decode_ms_per_token=decode_ms,
        meets_latency_target=meets,
    )


def _sci(value: float) -> str:
    """Three significant digits, exponent without '+' or leading zeros: 1.59e20, 8.68e-5."""
    text = f"{value:.3g}"
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else text


def _bytes(count: float) -> str:
    """Human-readable binary size with three significant digits."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{int(count)} B"


def _check_count(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_COUNT:
        raise ValueError(f"{name} must be an integer in [{minimum}, 1e18], got {value!r}")


def _check_positive(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive number, got {value!r}")


# --- command line ---------------------------------------------------------------------


_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]+")


def _integer(text: str, *, minimum: int) -> int:
    """Exact integer from '4096', '1_000_000' or '2e9'; fractions and junk are rejected.

    Underscores follow Python's own rules (int()); scientific notation must name an exact
    integer, so '2.5e9' passes and '1.5' or '1e-3' do not. The bound is checked on the
    Decimal, before int(), so '1e999999999' cannot build a huge integer.
    """
    text = text.strip()
    try:
        value = Decimal(int(text)) if _SCIENTIFIC.fullmatch(text) is None else Decimal(text)
    except (ValueError, InvalidOperation):
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer")
    if not minimum <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text!r} must be between {minimum} and 1e18")
    return int(value)


def _at_least_one(text: str) -> int:
    return _integer(text, minimum=1)


def _non_negative(text: str) -> int:
    return _integer(text, minimum=0)


def _positive_number(text: str) -> float:
    """A positive, finite decimal number such as '80', '0.5' or '1e3'."""
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m reference.architecture",
        description="Pick a sequence architecture (the lesson's architecture-picker skill).",
    )
    parser.add_argument(
        "--seq-len", metavar="N", type=_at_least_one, required=True, help="longest context, tokens"
    )
    parser.add_argument(
        "--training-tokens",
        metavar="T",
        type=_non_negative,
        required=True,
        help="training budget in tokens (0: no training); 1_000_000_000 and 1e9 are accepted",
    )
    parser.add_argument(
        "--streaming", action="store_true", help="inference one token at a time, constant memory"
    )
    parser.add_argument(
        "--no-matmul-accelerator",
        dest="matmul_accelerator",
        action="store_false",
        help="edge device without a matmul accelerator",
    )
    parser.add_argument(
        "--batch-size", metavar="B", type=_at_least_one, default=1, help="inference batch"
    )
    parser.add_argument(
        "--params",
        metavar="P",
        type=_at_least_one,
        default=None,
        help=f"parameter count (default {DEFAULT_PARAMS:,}; {DEFAULT_EDGE_PARAMS:,} on edge)",
    )
    parser.add_argument(
        "--device-memory-gib",
        metavar="GIB",
        type=_positive_number,
        default=None,
        help=f"device memory (default {DEFAULT_DEVICE_MEMORY_GIB:g}; "
        f"{DEFAULT_EDGE_MEMORY_GIB:g} on edge)",
    )
    parser.add_argument(
        "--latency-ms",
        metavar="MS",
        type=_positive_number,
        default=None,
        help="decode target per token",
    )
    parser.add_argument(
        "--accept-rnn-tradeoff",
        action="store_true",
        help="allow a pure RNN above 1B training tokens (the trade-off is stated)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def format_text(rec: Recommendation) -> str:
    """The short readable answer: one labelled paragraph per part, wrapped at 100 columns."""
    refused = "none"
    if rec.refused is not None:
        refused = (
            f"{rec.refused.ruled_out} ruled out: {rec.refused.why} Instead: {rec.refused.instead}."
        )
    parts = [
        ("pick", f"{rec.pick} [family: {rec.family}]"),
        ("reason", rec.reason),
        ("trade-off", rec.trade_off),
        ("refused", refused),
        ("context", rec.context_strategy.summary),
        ("training", rec.training_flops.summary),
        ("memory", rec.inference_memory.summary),
        ("failure", rec.failure_mode),
        ("fallback", rec.fallback),
    ]
    indent = " " * 11
    return "\n".join(
        textwrap.fill(
            text,
            width=100,
            initial_indent=f"{label + ':':<11}",
            subsequent_indent=indent,
            break_on_hyphens=False,
        )
        for label, text in parts
    )


def main(argv: list[str] | None = None) -> int:
    """CLI: print the recommendation; exit 2 with one line on stderr for bad input."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        rec = pick_architecture(
            seq_len=args.seq_len,
            training_tokens=args.training_tokens,
            streaming=args.streaming,
            matmul_accelerator=args.matmul_accelerator,
            batch_size=args.batch_size,
            params=args.params,
            device_memory_gib=args.device_memory_gib,
            latency_ms=args.latency_ms,
            accept_rnn_tradeoff=args.accept_rnn_tradeoff,
        )
    except (UsageError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rec.to_dict(), indent=2))
    else:
        print(format_text(rec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
