"""Gradescope: the autograder.zip ``release --gradescope`` writes, and the grading inside it."""
