"""The lesson's worked code: serial vs parallel reductions, timing, work and depth.

``python -m reference`` prints the timing table and the measured work/depth table;
``python -m reference.architecture`` is the architecture-picker skill.
"""

from reference.lesson import attention_style, rnn_style, tree_mean
from reference.tracer import Tape, Traced, max_depth

__all__ = ["Tape", "Traced", "attention_style", "max_depth", "rnn_style", "tree_mean"]
