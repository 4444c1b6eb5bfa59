"""The nbgrader course: its notebooks, the checks its kernel runs, ``nbgrader-regrade``."""
