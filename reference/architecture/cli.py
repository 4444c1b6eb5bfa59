"""``python -m reference.architecture``: the picker's command line and its text answer."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import textwrap
from decimal import Decimal, InvalidOperation

from reference.architecture.answer import Recommendation
from reference.architecture.assumptions import (
    DEFAULT_DEVICE_MEMORY_GIB,
    DEFAULT_EDGE_MEMORY_GIB,
    DEFAULT_EDGE_PARAMS,
    DEFAULT_PARAMS,
    MAX_COUNT,
)
from reference.architecture.pick import pick_architecture
from reference.cli_support import OneLineParser, UsageError

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
