"""The answer's numeric parts: model shape, context strategy, training FLOPs, inference memory.

Each family is sized at the same parameter count (:func:`model_shape`), so the figures of
different picks compare; every assumption is a constant of :mod:`.assumptions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reference.architecture.answer import ContextStrategy, InferenceMemory, TrainingFlops
from reference.architecture.assumptions import (
    FULL_ATTENTION_GUARD,
    GLOBAL_ATTENTION_EVERY,
    PRETRAIN_CONTEXT,
    SCAN_CHUNK,
    SLIDING_WINDOW,
    SSM_CONV_WIDTH,
    SSM_EXPAND,
    SSM_STATE_SIZE,
    STATE_BYTES,
    SUSTAINED_TRAINING_FLOPS,
    TOKENS_PER_PARAM,
    WEIGHT_BYTES,
    WIDTH_PER_LAYER,
)


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


def quadratic_cost(seq_len: int) -> str:
    """The guard rule's O(N^2) statement, with the number for this seq_len."""
    scores = seq_len * seq_len
    return (
        f"Full attention is O(N^2) in memory: at N = {seq_len:,} each layer's score matrix "
        f"has {_sci(scores)} entries per head ({_bytes(scores * WEIGHT_BYTES)} in bf16 if "
        "materialised; FlashAttention avoids storing it but not the O(N^2) compute)."
    )


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


def context_strategy(family: str, seq_len: int, shape: ModelShape) -> ContextStrategy:
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
            + quadratic_cost(seq_len)
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


def training_flops(
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


def inference_memory(
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
