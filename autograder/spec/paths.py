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
EXERCISES_FOLDER = "exercises"
"""A checkout's and a student repository's exercise modules (the stubs a student fills in);
``grade --submission`` defaults to it."""
SOLUTIONS_FOLDER = "solutions"
"""A checkout's reference solutions (never released): ``release`` builds the stubs from
them, ``collect --similarity`` compares with them."""
OUTPUTS_FOLDER = "outputs"
"""Where the command-line tools write by default, relative to the working folder."""
OUTPUT_LOG = "output.log"
"""What a grading's workers printed, in the exercise's work folder: the judge writes it, the
grader reads its tail into the results."""
RESULTS_NAME = "results.json"
"""A results document's file name: ``grade``'s default, each ``DIR/<student>/`` of ``regrade``
and ``nbgrader-regrade``, what ``collect`` looks for."""
REGRADE_LOG = "regrade.log"
"""``regrade``'s log beside a student's results: the grader's output and, for a student who
could not be graded, the reason as its last line (``collect`` reads it)."""
GRADE_LOG = "grade.log"
"""A course tool's log of one grading's output, in its scratch folder."""
PYPROJECT = "pyproject.toml"
"""The checkout's project file: released to students, read for Gradescope's pins."""
README = "README.md"
"""The README ``release`` writes into a student repository and into Gradescope's zip."""
REGRADE_FAILURE_MARK = "regrade: could not be graded: "
"""How the last line of a ``regrade.log`` starts when the student could not be graded; the
reason follows it."""
