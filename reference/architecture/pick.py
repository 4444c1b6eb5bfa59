"""``pick_architecture``: the decision table's choice, the refusal rule, and the numbers."""

from __future__ import annotations

import math

from reference.architecture.answer import Recommendation
from reference.architecture.assumptions import (
    ACCELERATOR_BANDWIDTH,
    DEFAULT_DEVICE_MEMORY_GIB,
    DEFAULT_EDGE_MEMORY_GIB,
    DEFAULT_EDGE_PARAMS,
    DEFAULT_PARAMS,
    EDGE_BANDWIDTH,
    MAX_COUNT,
    RNN_TRAINING_TOKEN_LIMIT,
    STATE_BYTES,
    SUSTAINED_TRAINING_FLOPS,
    TOKENS_PER_PARAM,
    WEIGHT_BYTES,
)
from reference.architecture.decision_table import (
    TABLE,
    accepted_rnn,
    refusal,
    rnn_replacement,
    rows_matched,
)
from reference.architecture.estimates import (
    context_strategy,
    inference_memory,
    model_shape,
    training_flops,
)


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

    rows = rows_matched(seq_len, streaming, matmul_accelerator)
    row = rows[0]
    choice = TABLE[row](seq_len, rows)
    refused = None
    if choice.family == "rnn" and training_tokens > RNN_TRAINING_TOKEN_LIMIT:
        if accept_rnn_tradeoff:
            choice = accepted_rnn(choice, seq_len, training_tokens)
        else:
            replacement = rnn_replacement(choice, matmul_accelerator)
            refused = refusal(choice, replacement, seq_len, training_tokens)
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
        context_strategy=context_strategy(choice.family, seq_len, shape),
        training_flops=training_flops(choice.family, seq_len, training_tokens, params, shape),
        inference_memory=inference_memory(
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
