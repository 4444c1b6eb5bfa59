"""The architecture-picker skill: decision table, boundaries, refusal and guard rules, CLI.

Most tests call ``pick_architecture`` or ``main`` in-process (fast); the exit-status and
stderr tests run ``python -m reference.architecture`` in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from reference.architecture import (
    CONTEXT_128K,
    FAMILIES,
    FULL_ATTENTION_GUARD,
    LONG_CONTEXT,
    RNN_TRAINING_TOKEN_LIMIT,
    Recommendation,
    main,
    pick_architecture,
)

ROOT = Path(__file__).resolve().parents[1]
SKILL = ROOT / "outputs" / "skill-architecture-picker.md"
SMALL_BUDGET = 100_000_000  # well under the 1B-token RNN limit
BIG_BUDGET = 100_000_000_000  # well above it


def _names_rnn_penalties(text: str) -> bool:
    """The refusal rule's trade-off: gradient flow through non-linearities and serial depth."""
    lowered = text.lower()
    return "non-linearities" in lowered and "gradient" in lowered and "serial depth" in lowered


# --- decision table -------------------------------------------------------------------


def test_default_row_is_transformer() -> None:
    rec = pick_architecture(seq_len=4_096, training_tokens=BIG_BUDGET)
    assert (rec.family, rec.row_used, rec.refused) == ("transformer", "default", None)


def test_streaming_row_is_recurrent_with_constant_memory() -> None:
    rec = pick_architecture(seq_len=4_096, training_tokens=SMALL_BUDGET, streaming=True)
    assert rec.family == "rnn"
    assert rec.row_used == "streaming"
    assert "constant" in rec.inference_memory.summary
    short = pick_architecture(seq_len=512, training_tokens=SMALL_BUDGET, streaming=True)
    # constant memory: the recurrent state does not grow with the context
    assert short.inference_memory.per_sequence_bytes == rec.inference_memory.per_sequence_bytes


def test_long_context_row_is_ssm() -> None:
    rec = pick_architecture(seq_len=2_000_000, training_tokens=BIG_BUDGET)
    assert (rec.family, rec.row_used) == ("ssm", "long-context")
    assert "Mamba 2" in rec.pick


def test_edge_row_is_depthwise_separable_rnn() -> None:
    rec = pick_architecture(seq_len=16_000, training_tokens=SMALL_BUDGET, matmul_accelerator=False)
    assert (rec.family, rec.row_used) == ("rnn", "edge")
    assert "depthwise-separable" in rec.pick
    assert "FLOPs" in rec.reason


def test_gap_row_is_hybrid() -> None:
    rec = pick_architecture(seq_len=500_000, training_tokens=BIG_BUDGET)
    assert (rec.family, rec.row_used) == ("hybrid", "gap")
    assert rec.context_strategy.scan_chunk and rec.context_strategy.sliding_window


@pytest.mark.parametrize(
    ("kwargs", "rows", "family"),
    [
        ({"streaming": True, "seq_len": 2_000_000}, ("streaming", "long-context"), "ssm"),
        ({"matmul_accelerator": False, "streaming": True}, ("edge", "streaming", "default"), "rnn"),
        ({"matmul_accelerator": False, "seq_len": 2_000_000}, ("edge", "long-context"), "rnn"),
        ({"streaming": True, "seq_len": 500_000}, ("streaming", "gap"), "rnn"),
    ],
)
def test_precedence_when_several_rows_apply(
    kwargs: dict[str, object], rows: tuple[str, ...], family: str
) -> None:
    args = {"seq_len": 4_096, "training_tokens": SMALL_BUDGET, **kwargs}
    rec = pick_architecture(**args)  # type: ignore[arg-type]
    assert rec.rows_matched == rows
    assert rec.row_used == rows[0]
    assert rec.family == family


# --- boundaries -----------------------------------------------------------------------


def test_boundary_constants() -> None:
    assert CONTEXT_128K == 131_072
    assert FULL_ATTENTION_GUARD == 65_536
    assert LONG_CONTEXT == 1_000_000
    assert RNN_TRAINING_TOKEN_LIMIT == 1_000_000_000


@pytest.mark.parametrize(
    ("seq_len", "family", "row"),
    [
        (131_072, "transformer", "default"),  # 128K is "up to 128K"
        (131_073, "hybrid", "gap"),
        (1_000_000, "hybrid", "gap"),  # exactly 1M is not "> 1M"
        (1_000_001, "ssm", "long-context"),
    ],
)
def test_context_boundaries(seq_len: int, family: str, row: str) -> None:
    rec = pick_architecture(seq_len=seq_len, training_tokens=BIG_BUDGET)
    assert (rec.family, rec.row_used) == (family, row)


def test_exactly_1b_tokens_is_not_above_1b() -> None:
    rec = pick_architecture(seq_len=4_096, training_tokens=1_000_000_000, streaming=True)
    assert rec.family == "rnn"
    assert rec.refused is None
    above = pick_architecture(seq_len=4_096, training_tokens=1_000_000_001, streaming=True)
    assert above.family == "ssm"
    assert above.refused is not None


# --- refusal rule ---------------------------------------------------------------------


@pytest.mark.parametrize("matmul_accelerator", [True, False])
def test_refusal_says_what_why_and_instead(matmul_accelerator: bool) -> None:
    rec = pick_architecture(
        seq_len=4_096,
        training_tokens=2_000_000_000,
        streaming=True,
        matmul_accelerator=matmul_accelerator,
    )
    assert rec.family == "ssm"
    assert rec.refused is not None
    assert "pure RNN" in rec.refused.ruled_out
    assert _names_rnn_penalties(rec.refused.why)
    assert "4,096" in rec.refused.why  # the N it is about
    assert rec.refused.instead == rec.pick
    assert "parallel scan" in rec.reason
    refused = rec.to_dict()["refused"]
    assert set(refused) == {"ruled_out", "why", "instead"}


def test_accepting_the_tradeoff_keeps_the_rnn_and_states_it() -> None:
    rec = pick_architecture(
        seq_len=4_096, training_tokens=2_000_000_000, streaming=True, accept_rnn_tradeoff=True
    )
    assert rec.family == "rnn"
    assert rec.refused is None
    assert "accepted" in rec.trade_off
    assert _names_rnn_penalties(rec.trade_off)


def test_accepting_the_tradeoff_does_not_change_non_rnn_picks() -> None:
    plain = pick_architecture(seq_len=4_096, training_tokens=BIG_BUDGET)
    accepted = pick_architecture(
        seq_len=4_096, training_tokens=BIG_BUDGET, accept_rnn_tradeoff=True
    )
    assert plain == accepted


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("matmul_accelerator", [False, True])
@pytest.mark.parametrize("seq_len", [1, 4_096, 131_072, 500_000, 1_000_000, 2_000_000])
@pytest.mark.parametrize("tokens", [0, 1_000_000_000, 1_000_000_001, 10**13])
@pytest.mark.parametrize("accept", [False, True])
def test_every_answer_is_complete_and_obeys_the_guard_rules(
    streaming: bool, matmul_accelerator: bool, seq_len: int, tokens: int, accept: bool
) -> None:
    rec = pick_architecture(
        seq_len=seq_len,
        training_tokens=tokens,
        streaming=streaming,
        matmul_accelerator=matmul_accelerator,
        accept_rnn_tradeoff=accept,
    )
    assert rec.family in FAMILIES
    for text in (rec.pick, rec.reason, rec.trade_off, rec.fallback, rec.failure_mode):
        assert text.strip()
    # guard 1: a pure RNN above 1B tokens only with both penalties named
    if rec.family == "rnn":
        assert _names_rnn_penalties(rec.trade_off)
        if tokens > RNN_TRAINING_TOKEN_LIMIT:
            assert accept and "accepted" in rec.trade_off
    # guard 2: full attention above 64K names its O(N^2) memory cost
    if rec.family == "transformer" and seq_len > FULL_ATTENTION_GUARD:
        assert "O(N^2)" in rec.context_strategy.summary
        assert "memory" in rec.context_strategy.summary
        assert "O(N^2)" in rec.trade_off
    # refusal only ever replaces a pure RNN above 1B tokens
    if rec.refused is not None:
        assert tokens > RNN_TRAINING_TOKEN_LIMIT and not accept and rec.family != "rnn"


@pytest.mark.parametrize("seq_len", [65_536, 65_537])
def test_64k_guard_boundary(seq_len: int) -> None:
    rec = pick_architecture(seq_len=seq_len, training_tokens=BIG_BUDGET)
    over = seq_len > FULL_ATTENTION_GUARD
    assert rec.family == "transformer"
    assert ("O(N^2) in memory" in rec.context_strategy.summary) is over
    assert (rec.context_strategy.sliding_window is not None) is over
    assert rec.context_strategy.full_attention_cutoff == FULL_ATTENTION_GUARD


# --- the numeric parts ----------------------------------------------------------------


def test_context_strategy_fields_match_the_family() -> None:
    transformer = pick_architecture(seq_len=32_768, training_tokens=BIG_BUDGET)
    assert transformer.context_strategy.rope_scaling == 4.0  # 32,768 / 8,192
    ssm = pick_architecture(seq_len=2_000_000, training_tokens=BIG_BUDGET)
    assert ssm.context_strategy.scan_chunk == 256
    rnn = pick_architecture(seq_len=4_096, training_tokens=0, matmul_accelerator=False)
    assert rnn.context_strategy.hidden_width == rnn.assumptions["d_model"]


def test_training_flops_formula_and_budget() -> None:
    params = 1_000_000_000
    rec = pick_architecture(seq_len=4_096, training_tokens=20 * params, params=params)
    flops = rec.training_flops
    assert "6*P" in flops.formula
    assert flops.flops_per_token > 6 * params  # plus the attention term
    assert flops.total_flops == flops.flops_per_token * 20 * params
    assert flops.budget_covers
    under = pick_architecture(seq_len=4_096, training_tokens=20 * params - 1, params=params)
    assert not under.training_flops.budget_covers
    rnn = pick_architecture(seq_len=4_096, training_tokens=SMALL_BUDGET, streaming=True)
    assert rnn.training_flops.flops_per_token == 6 * rnn.assumptions["params"]


def test_kv_cache_grows_with_context_and_device_limit_is_reported() -> None:
    short = pick_architecture(seq_len=4_096, training_tokens=0)
    long = pick_architecture(seq_len=8_192, training_tokens=0)
    assert long.inference_memory.per_sequence_bytes == 2 * short.inference_memory.per_sequence_bytes
    tiny = pick_architecture(seq_len=65_536, training_tokens=0, device_memory_gib=1)
    assert not tiny.inference_memory.fits_batch_size_1
    assert tiny.inference_memory.max_batch_size == 0
    assert "cannot hold batch size 1" in tiny.inference_memory.summary


def test_latency_target_is_checked() -> None:
    fast = pick_architecture(seq_len=4_096, training_tokens=0, latency_ms=1_000)
    slow = pick_architecture(seq_len=4_096, training_tokens=0, latency_ms=0.001)
    assert (
        fast.inference_memory.meets_latency_target,
        slow.inference_memory.meets_latency_target,
    ) == (True, False)
    assert (
        pick_architecture(seq_len=4_096, training_tokens=0).inference_memory.meets_latency_target
        is None
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seq_len": 0, "training_tokens": 1},
        {"seq_len": 1, "training_tokens": -1},
        {"seq_len": 1.5, "training_tokens": 1},
        {"seq_len": True, "training_tokens": 1},
        {"seq_len": 1, "training_tokens": 1, "batch_size": 0},
        {"seq_len": 1, "training_tokens": 1, "device_memory_gib": 0},
        {"seq_len": 1, "training_tokens": 1, "latency_ms": float("nan")},
    ],
)
def test_api_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        pick_architecture(**kwargs)  # type: ignore[arg-type]


def test_recommendation_is_frozen() -> None:
    rec = pick_architecture(seq_len=4_096, training_tokens=0)
    assert isinstance(rec, Recommendation)
    with pytest.raises(AttributeError):
        rec.family = "rnn"  # type: ignore[misc]


# --- command line ---------------------------------------------------------------------


def test_json_output_has_the_contract_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seq-len", "4096", "--training-tokens", "2e9", "--streaming", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    required = {"pick", "family", "trade_off", "refused", "reason", "context_strategy"}
    required |= {"training_flops", "inference_memory", "failure_mode", "fallback"}
    assert required <= set(data)
    assert data["family"] == "ssm"
    assert data["refused"]["ruled_out"].startswith("pure RNN")
    assert main(["--seq-len", "4096", "--training-tokens", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["refused"] is None


def test_text_output_names_pick_family_and_trade_off(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seq-len", "4_096", "--training-tokens", "1_000_000"]) == 0
    out = capsys.readouterr().out
    for label in ("pick:", "trade-off:", "refused:", "context:", "training:", "memory:"):
        assert label in out
    assert "[family: transformer]" in out
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize(
    ("text", "expected"), [("2e9", 2_000_000_000), ("2.5e9", 2_500_000_000), ("1_000", 1_000)]
)
def test_cli_accepts_exact_integers(
    capsys: pytest.CaptureFixture[str], text: str, expected: int
) -> None:
    assert main(["--seq-len", "8", "--training-tokens", text, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["training_flops"]["summary"]
    assert f"{expected:,} tokens" in summary


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reference.architecture", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--seq-len", "-5", "--training-tokens", "1"],
        ["--seq-len", "0", "--training-tokens", "1"],
        ["--seq-len", "abc", "--training-tokens", "1"],
        ["--seq-len", "8", "--training-tokens", "1e9x"],
        ["--seq-len", "8", "--training-tokens", "1.5"],
        ["--seq-len", "8", "--training-tokens", "-1"],
        ["--seq-len", "8", "--training-tokens", "1e999999999"],
        ["--seq-len", "8"],
        ["--seq-len", "8", "--training-tokens", "1", "--bogus"],
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(args: list[str]) -> None:
    result = _run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "error:" in result.stderr


def test_cli_subprocess_succeeds() -> None:
    result = _run_cli("--seq-len", "2_000_000", "--training-tokens", "1e11", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["family"] == "ssm"


# --- the skill document ---------------------------------------------------------------

_EXAMPLE = re.compile(r"```console\n\$ python -m reference\.architecture (.*?)\n(.*?)\n```", re.S)


def test_skill_front_matter() -> None:
    text = SKILL.read_text(encoding="utf-8")
    front = text.split("---\n")[1]
    fields = dict(line.split(": ", 1) for line in front.strip().splitlines())
    assert fields["name"] == "sequence-architecture-picker"
    assert fields["phase"] == "7"
    assert fields["lesson"] == "1"
    assert {"description", "version", "tags"} <= set(fields)


def test_skill_examples_match_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    examples = _EXAMPLE.findall(SKILL.read_text(encoding="utf-8"))
    assert len(examples) >= 4
    families = set()
    for args, documented in examples:
        assert main(shlex.split(args)) == 0
        printed = capsys.readouterr().out.rstrip("\n")
        assert printed == documented, f"example drifted: python -m reference.architecture {args}"
        found = re.search(r'\[family: ([a-z-]+)\]|"family": "([a-z-]+)"', printed)
        families.add(found.group(1) or found.group(2))
    text = " ".join(documented for _, documented in examples)
    assert "ruled out" in text  # a refusal
    assert "1_000_000_000" in " ".join(args for args, _ in examples)  # a boundary case
    assert len(families) >= 4
