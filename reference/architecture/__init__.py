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
of :mod:`.assumptions`; the numbers are estimates for choosing, not for capacity planning.

Modules: :mod:`.assumptions` (every constant), :mod:`.decision_table` (the rows and the
refusal rule), :mod:`.estimates` (the numeric parts), :mod:`.pick` (``pick_architecture``),
:mod:`.answer` (the answer's types), :mod:`.cli` (the command line and its text answer).
"""

from reference.architecture.answer import (
    ContextStrategy,
    InferenceMemory,
    Recommendation,
    Refusal,
    TrainingFlops,
)
from reference.architecture.assumptions import (
    CONTEXT_128K,
    FAMILIES,
    FULL_ATTENTION_GUARD,
    LONG_CONTEXT,
    RNN_TRAINING_TOKEN_LIMIT,
)
from reference.architecture.cli import format_text, main
from reference.architecture.estimates import ModelShape, model_shape
from reference.architecture.pick import pick_architecture

__all__ = [
    "CONTEXT_128K",
    "FAMILIES",
    "FULL_ATTENTION_GUARD",
    "LONG_CONTEXT",
    "RNN_TRAINING_TOKEN_LIMIT",
    "ContextStrategy",
    "InferenceMemory",
    "ModelShape",
    "Recommendation",
    "Refusal",
    "TrainingFlops",
    "format_text",
    "main",
    "model_shape",
    "pick_architecture",
]
