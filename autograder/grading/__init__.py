"""The grading half: judge, worker, protocol, supervisor, sandbox."""
