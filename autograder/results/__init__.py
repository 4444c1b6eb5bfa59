"""The results document: its schema, building it from verdicts, merging runs, writing it.

Standard library only: the workflow's ``final grade`` job installs the grader without its
dependencies and merges results with this package.
"""
