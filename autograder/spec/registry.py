"""The one registry of graded checks: every check's id, exercise, points, tags and hint.

Nothing else declares points. The pytest check modules bind these ids to test
functions (``@check("medium.depth_measured")``), the runner reads them to know
what to expect from each exercise, and the nbgrader release builds its grade
cells from them. Totals: easy 20, medium 40, hard 40, challenge 10 extra credit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ASSIGNMENT = "why-transformers"
"""The assignment's name: nbgrader's assignment, the class summary's title, the JUnit root."""

EXERCISES: dict[str, str] = {
    "easy": "easy_vector_state",
    "medium": "medium_parallel_scan",
    "hard": "hard_gpu_sweep",
    "challenge": "challenge_linear_recurrence",
}
"""Exercise name -> module file stem (SPEC's file names)."""

EXTRA_CREDIT: frozenset[str] = frozenset({"challenge"})
"""Exercises whose points add to the score but not to max_score."""

DEVICES = ("auto", "cpu", "cuda")
"""``--device``: ``auto`` is CUDA when a device is really there."""
SANDBOXES = ("auto", "bubblewrap", "none")
"""``--sandbox``: ``auto`` is bubblewrap when a probe shows it can start here, else none."""

VISIBLE = "visible"
HIDDEN = "hidden"
AFTER_DUE_DATE = "after_due_date"


@dataclass(frozen=True)
class Check:
    """One graded check. ``hint`` is what a student reads when it fails."""

    id: str
    exercise: str
    points: float
    title: str
    hint: str
    tags: tuple[str, ...] = ()
    timeout: float = 20.0  # seconds of wall clock for this check alone
    visibility: str = VISIBLE
    rubric: tuple[str, ...] = field(default=())  # manual checks: key points for the TA

    @property
    def gpu(self) -> bool:
        """Needs a CUDA device: graded by the GPU job (``grade --gpu-only``), pending elsewhere."""
        return "gpu" in self.tags

    @property
    def manual(self) -> bool:
        return "manual" in self.tags


CHECKS: tuple[Check, ...] = (
    # ---- easy: vector hidden state (20) ----
    Check(
        "easy.vector_matches_reference",
        "easy",
        4,
        "rnn_style_vector matches the recurrence on random inputs",
        "h starts as d zeros; for every row x_t: h[i] = 0.9 * h[i] + x_t[i]; return the final h.",
    ),
    Check(
        "easy.vector_rejects_empty",
        "easy",
        1,
        "rnn_style_vector([]) raises ValueError",
        "An empty sequence has no hidden dimension d: raise ValueError.",
    ),
    Check(
        "easy.numpy_matches_reference",
        "easy",
        3,
        "rnn_style_vector_numpy matches the recurrence on random inputs",
        "Same recurrence with h an ndarray of shape (d,): h = 0.9 * h + xs[t].",
    ),
    Check(
        "easy.numpy_vectorised_over_d",
        "easy",
        3,
        "the numpy version's per-step cost barely grows with d (timed by the grader)",
        "One vectorised numpy operation per time step; no Python loop over the d hidden units.",
        tags=("timing",),
        timeout=60,
    ),
    Check(
        "easy.python_grows_with_d",
        "easy",
        2,
        "the pure-Python version's per-step cost grows with d (timed by the grader)",
        "rnn_style_vector is the pure-Python baseline: a Python loop over the d units per step.",
        tags=("timing",),
        timeout=60,
    ),
    Check(
        "easy.fit_overhead_exact",
        "easy",
        2,
        "fit_overhead recovers (a, b) of t(d) = a + b*d",
        "Ordinary least squares over the (d, seconds) pairs; return (intercept, slope) as floats.",
    ),
    Check(
        "easy.serial_overhead_consistent",
        "easy",
        2,
        "serial_overhead's timings agree with the grader's own measurement",
        "Time rnn_style_vector / rnn_style_vector_numpy yourself (median of repeats) and divide "
        "by seq_len; do not return made-up numbers.",
        tags=("timing",),
        timeout=90,
    ),
    Check(
        "easy.answer",
        "easy",
        3,
        "ANSWER: how much does the serial overhead grow with hidden-state dimension?",
        "Answer with your measured (a, b) for both implementations and what they mean.",
        tags=("manual",),
        rubric=(
            "Quotes measured per-step times or the fitted (a, b) for both implementations.",
            "Pure Python: cost per step grows about linearly with d (b dominates at large d).",
            "numpy: per-step cost is nearly flat in d; the fixed serial overhead a dominates.",
            "Concludes that the N serial steps, not the width d, are the bottleneck.",
        ),
    ),
    # ---- medium: Hillis-Steele scan (40) ----
    Check(
        "medium.serial_scan_correct",
        "medium",
        3,
        "serial_scan is the inclusive left-to-right scan",
        "out[0] = xs[0]; out[j] = op(out[j-1], xs[j]); empty input gives [].",
    ),
    Check(
        "medium.matches_serial_1024_int",
        "medium",
        6,
        "hillis_steele_scan equals the serial scan on 1024 random integers",
        "Round k: new[j] = op(prev[j - 2**k], prev[j]) for j >= 2**k, else prev[j].",
    ),
    Check(
        "medium.matches_serial_1024_float",
        "medium",
        3,
        "hillis_steele_scan equals the serial scan on 1024 random floats (tight tolerance)",
        "Floats are compared with a relative tolerance of 1e-9; the sums are the same up to "
        "rounding.",
    ),
    Check(
        "medium.edge_lengths",
        "medium",
        5,
        "hillis_steele_scan handles lengths 0, 1, 2, 3, 5, 1000 and 1025",
        "Stop when 2**k >= n; an empty input gives [] and a single element gives [xs[0]].",
    ),
    Check(
        "medium.non_commutative_op",
        "medium",
        5,
        "hillis_steele_scan is right for non-commutative ops (strings, matrices)",
        "The earlier element is always the left operand: op(prev[j - 2**k], prev[j]).",
    ),
    Check(
        "medium.depth_measured",
        "medium",
        8,
        "measured dependency depth is Hillis-Steele's ceil(log2 n) rounds at every length",
        "Each round builds a new list from the previous round's list only, so round k adds one "
        "level of depth: ceil(log2 n) levels in all.",
    ),
    Check(
        "medium.work_measured",
        "medium",
        4,
        "measured work is the sum over rounds of (n - 2**k) op applications",
        "Apply op only where j >= 2**k; copy the other elements unchanged.",
    ),
    Check(
        "medium.scan_depth_formula",
        "medium",
        3,
        "scan_depth(n) equals the measured depth (up to n = 2**60 + 1); negative n raises "
        "ValueError",
        "The smallest k with 2**k >= n (0 for n <= 1), counted with integers: "
        "(n - 1).bit_length(); float log2 rounds wrongly for large n.",
    ),
    Check(
        "medium.scan_work_formula",
        "medium",
        3,
        "scan_work(n) equals the measured work (up to n = 2**60 + 1); negative n raises ValueError",
        "Sum over rounds k of (n - 2**k).",
    ),
    # ---- hard: PyTorch sweep (40; 14 of them need a GPU) ----
    Check(
        "hard.attention_correct_cpu",
        "hard",
        4,
        "attention_style_torch is the mean, a 0-dim tensor on the input's device (CPU)",
        "One reduction over the tensor, e.g. xs.mean(); no Python loop.",
    ),
    Check(
        "hard.rnn_correct_cpu",
        "hard",
        4,
        "rnn_style_torch runs h = 0.9*h + x over the tensor (CPU)",
        "Start from a 0-dim zero tensor on xs.device; one step per element; return h.",
        timeout=60,
    ),
    Check(
        "hard.time_fn_accurate_cpu",
        "hard",
        3,
        "time_fn measures work of known duration within tolerance (CPU)",
        "Warm up, then time each call with time.perf_counter and return the median in seconds.",
        tags=("timing",),
    ),
    Check(
        "hard.sweep_rows_cpu",
        "hard",
        4,
        "sweep returns one row per length whose timings agree with the grader's (CPU)",
        "Rows are {'n', 'rnn_seconds', 'attention_seconds'}, timed with your time_fn; "
        "lengths defaults to SWEEP_LENGTHS (64 .. 65,536).",
        tags=("timing",),
        timeout=120,
    ),
    Check(
        "hard.curve_shapes_cpu",
        "hard",
        3,
        "serial curve grows linearly in n, reduction stays near the reference's (CPU)",
        "rnn_style_torch must take one step per element; attention_style_torch must be one "
        "library reduction, not a Python loop.",
        tags=("timing",),
        timeout=120,
    ),
    Check(
        "hard.plot_content",
        "hard",
        4,
        "plot_sweep draws a log-log plot of both curves with labels and a legend",
        "Log scale on both axes, one line per curve (labelled), axis labels, legend, saved to "
        "path.",
    ),
    Check(
        "hard.explanation",
        "hard",
        4,
        "EXPLANATION: why each curve has its shape",
        "Explain the serial curve's slope and the reduction's flat region with your numbers.",
        tags=("manual",),
        rubric=(
            "Serial curve: linear in n (slope ~1 on log-log): n dependent steps, each a kernel "
            "launch / op dispatch of a few microseconds.",
            "Reduction: nearly flat: one kernel whose cost is launch overhead until n is large "
            "enough to be bandwidth-bound.",
            "Quotes measured numbers (e.g. seconds at 64 and 65,536, or the ratio).",
            "Ties the shape to depth: N serial steps vs log N levels inside one kernel.",
        ),
    ),
    Check(
        "hard.correct_cuda",
        "hard",
        3,
        "both functions are correct on CUDA and return tensors on the GPU",
        "Keep every tensor on xs.device; do not call .item() or move data to the CPU.",
        tags=("gpu",),
        timeout=60,
    ),
    Check(
        "hard.time_fn_synchronises_cuda",
        "hard",
        4,
        "time_fn waits for queued GPU work (a kernel of known duration)",
        "Call torch.cuda.synchronize() before starting and before stopping the clock, or use "
        "CUDA events.",
        tags=("gpu", "timing"),
    ),
    Check(
        "hard.sweep_rows_cuda",
        "hard",
        3,
        "sweep on CUDA agrees with the grader's own timings",
        "Time with your time_fn on device='cuda'; inputs created on the GPU.",
        tags=("gpu", "timing"),
        timeout=180,
    ),
    Check(
        "hard.curve_shapes_cuda",
        "hard",
        4,
        "on CUDA the serial curve is linear in n and the reduction flat, near the reference's",
        "rnn_style_torch launches kernels per element; attention_style_torch is one reduction.",
        tags=("gpu", "timing"),
        timeout=240,
    ),
    # ---- challenge: linear recurrence as a scan (10, extra credit) ----
    Check(
        "challenge.combine_correct",
        "challenge",
        3,
        "combine composes two affine steps (earlier on the left) and is associative",
        "Applying (a1, x1) then (a2, x2) to h gives a2*(a1*h + x1) + x2.",
    ),
    Check(
        "challenge.matches_serial_1024",
        "challenge",
        4,
        "linear_recurrence equals the serial recurrence on length 1024; lengths that differ "
        "raise ValueError",
        "Scan the (a_t, x_t) pairs with combine; h_t is the x-part of the t-th prefix.",
    ),
    Check(
        "challenge.depth_logarithmic",
        "challenge",
        3,
        "measured depth grows logarithmically (any log-depth scan over combine)",
        "Scan the (a, x) pairs in rounds of combine, each round reading only the previous "
        "round's list (Hillis-Steele, or any other log-depth scan).",
    ),
)

CHECKS_BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}


def checks_for(exercise: str) -> list[Check]:
    """The checks of one exercise, in registry order."""
    if exercise not in EXERCISES:
        raise KeyError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")
    return [c for c in CHECKS if c.exercise == exercise]


def gpu_exercises() -> list[str]:
    """Exercises with at least one check that needs CUDA: what ``grade --gpu-only`` grades."""
    return [name for name in EXERCISES if any(c.gpu for c in checks_for(name))]


def exercise_points(exercise: str) -> float:
    """Total points of one exercise."""
    return sum(c.points for c in checks_for(exercise))
