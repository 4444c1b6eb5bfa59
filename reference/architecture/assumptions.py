"""The picker's vocabulary, table thresholds and model assumptions: every number it assumes.

The numbers are estimates for choosing an architecture, not for capacity planning.
"""

from __future__ import annotations

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
