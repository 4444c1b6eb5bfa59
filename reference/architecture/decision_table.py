"""The lesson's decision table (rows in precedence order) and the RNN refusal rule.

Each row gives the qualitative answer (:class:`Choice`: pick, reason, trade-off, fallback,
failure mode); :mod:`.estimates` computes the numbers from its family.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference.architecture.answer import Refusal
from reference.architecture.assumptions import (
    CONTEXT_128K,
    FULL_ATTENTION_GUARD,
    GLOBAL_ATTENTION_EVERY,
    LONG_CONTEXT,
    PRETRAIN_CONTEXT,
    SLIDING_WINDOW,
)


@dataclass(frozen=True)
class Choice:
    """The qualitative part of an answer; the numbers are computed from the family."""

    pick: str
    family: str
    reason: str
    trade_off: str
    fallback: str
    failure_mode: str


def rows_matched(seq_len: int, streaming: bool, matmul_accelerator: bool) -> list[str]:
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


def _edge(seq_len: int, rows: list[str]) -> Choice:
    return Choice(
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


def _streaming(seq_len: int, rows: list[str]) -> Choice:
    if "long-context" in rows:
        return Choice(
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
    return Choice(
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


def _long_context(seq_len: int, rows: list[str]) -> Choice:
    return Choice(
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


def _gap(seq_len: int, rows: list[str]) -> Choice:
    return Choice(
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


def _default(seq_len: int, rows: list[str]) -> Choice:
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
    return Choice(
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


TABLE = {
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


def accepted_rnn(choice: Choice, seq_len: int, training_tokens: int) -> Choice:
    """Keep the pure RNN above 1B tokens because the caller accepted its stated trade-off."""
    trade_off = (
        f"Trade-off accepted by the caller for a {training_tokens:,}-token training run: "
        f"{_rnn_penalties(seq_len)}"
    )
    return Choice(
        pick=choice.pick,
        family=choice.family,
        reason=choice.reason,
        trade_off=trade_off,
        fallback=choice.fallback,
        failure_mode=choice.failure_mode,
    )


def refusal(choice: Choice, replacement: Choice, seq_len: int, training_tokens: int) -> Refusal:
    """Ruled out / why / instead, with the gradient-flow and parallelism penalties named."""
    return Refusal(
        ruled_out=f"pure RNN ({choice.pick})",
        why=(
            f"a {training_tokens:,}-token training run is above 1B tokens, and a pure RNN "
            f"pays for it twice: {_rnn_penalties(seq_len)}"
        ),
        instead=replacement.pick,
    )


def rnn_replacement(choice: Choice, matmul_accelerator: bool) -> Choice:
    """The SSM that keeps the RNN's inference profile but trains as a parallel scan."""
    if not matmul_accelerator:
        return Choice(
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
    return Choice(
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
