"""Benchmarks of the grader and its report tools (timings are printed, never asserted)."""
