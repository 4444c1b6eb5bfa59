"""Where the grader's own files are: the package folder and the checkout holding it.

``ROOT`` holds ``autograder/`` and ``reference/`` side by side (a checkout, a student
repository, or site-packages for an installed grader); in a checkout it also holds
``exercises/`` and ``solutions/``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parent
