"""Where the grader's own files are: the package folder and the checkout holding it.

``ROOT`` holds ``autograder/`` and ``reference/`` side by side (a checkout, a student
repository, or site-packages for an installed grader); in a checkout it also holds
``exercises/`` and ``solutions/``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parent

# File and folder names more than one module spells: each is spelt here only.
SWEEP_PLOT = "sweep.png"
"""The student's sweep plot: a check keeps it in the judge's artifacts folder, ``grade``
copies it beside the results file, ``regrade`` keeps it in ``DIR/<student>/``."""
ARTIFACTS_FOLDER = "artifacts"
"""In a judge's work folder: files a check keeps for the report (the sweep plot)."""
SUBMISSION_FOLDER = "submission"
"""Beside a student's results file (``regrade``): the copy of the exercise modules graded,
which ``sign``, ``collect`` and ``nbgrader-regrade`` read."""
