"""``python -m reference``: the lesson's timing table and its Step 2 depth table, measured.

Progress goes to stderr (one line per timed length), the tables to stdout, so ``--json``
output can be piped. Bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from reference.cli_support import OneLineParser, UsageError
from reference.table import (
    DEFAULT_LENGTHS,
    DEFAULT_REPEATS,
    DEFAULT_SIZES,
    DEFAULT_WARMUP,
    depth_table,
    format_depth_table,
    format_timing_table,
    plot_table,
    timing_table,
)

MAX_LENGTH = 10_000_000  # a timed list of floats this long already takes ~80 MB per copy
MAX_SIZE = 1_048_576  # traced values cost ~100 bytes each and 2N of them are alive at once
MAX_REPEATS = 1_000
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def _count(text: str, *, maximum: int) -> int:
    """A whole number from 1 to ``maximum`` (one element of a comma-separated list)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text.strip()!r} is not a whole number") from None
    if not 1 <= value <= maximum:
        raise argparse.ArgumentTypeError(f"{value} must be between 1 and {maximum:,}")
    return value


def _count_list(maximum: int) -> Callable[[str], list[int]]:
    """Parser for a comma-separated list of whole numbers, e.g. '10,100,1000'."""

    def parse(text: str) -> list[int]:
        parts = text.split(",")
        if not text.strip() or any(not part.strip() for part in parts):
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers")
        return [_count(part, maximum=maximum) for part in parts]

    return parse


def _repeats(text: str) -> int:
    return _count(text, maximum=MAX_REPEATS)


def _plot_path(text: str) -> Path:
    """A file path whose suffix names a format matplotlib writes, and not a directory."""
    path = Path(text)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text!r} must end in one of {', '.join(PLOT_SUFFIXES)}")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory")
    return path


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m reference",
        description="Time the lesson's rnn_style, attention_style and tree_mean, and measure "
        "their work and dependency depth on traced inputs.",
    )
    parser.add_argument(
        "--lengths",
        metavar="N,N,...",
        type=_count_list(MAX_LENGTH),
        default=list(DEFAULT_LENGTHS),
        help=f"sequence lengths to time (default {','.join(map(str, DEFAULT_LENGTHS))})",
    )
    parser.add_argument(
        "--sizes",
        metavar="N,N,...",
        type=_count_list(MAX_SIZE),
        default=list(DEFAULT_SIZES),
        help=f"lengths to trace for work and depth (default {','.join(map(str, DEFAULT_SIZES))}; "
        "the course's 262144 takes a few seconds)",
    )
    parser.add_argument(
        "--repeats",
        metavar="N",
        type=_repeats,
        default=DEFAULT_REPEATS,
        help=f"timed samples per function and length, median reported (default {DEFAULT_REPEATS})",
    )
    parser.add_argument(
        "--plot",
        metavar="PATH",
        type=_plot_path,
        default=None,
        help="also write a log-log plot of the timing table, e.g. outputs/timing.png",
    )
    parser.add_argument("--json", action="store_true", help="print the tables as one JSON object")
    return parser


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: print the timing and depth tables; exit 2 with one line on stderr for bad input."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    timing_rows = timing_table(
        args.lengths, repeats=args.repeats, warmup=DEFAULT_WARMUP, progress=_progress
    )
    _progress(f"traced n={','.join(map(str, args.sizes))}")
    depth_rows = depth_table(args.sizes)
    if args.plot is not None:
        try:
            plot_table(timing_rows, args.plot)
        except OSError as error:
            print(f"{parser.prog}: error: cannot write {args.plot}: {error}", file=sys.stderr)
            return 2
        _progress(f"plot written to {args.plot}")
    if args.json:
        print(json.dumps({"timing": timing_rows, "depth": depth_rows}, indent=2))
    else:
        print(format_timing_table(timing_rows))
        print()
        print(format_depth_table(depth_rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
