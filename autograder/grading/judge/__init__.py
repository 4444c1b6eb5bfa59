"""The judge: one trusted process per exercise; runs ``checks/`` and decides every verdict.

``main.py`` is its entry point (started by :mod:`autograder.grading.exercise`); it talks to
workers through :mod:`~autograder.grading.judge.proxy` and the protocol of
:mod:`autograder.grading.worker`, and never runs submission code. ``reference.py`` is the one
module of this folder a worker loads: the judge's reference implementations, handed to a
reference worker the way a submission's module is.
"""
