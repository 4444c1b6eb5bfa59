"""Graded checks: one pytest module per exercise, bound to the registry."""
