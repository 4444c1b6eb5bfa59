"""``python -m autograder.course.gradescope run|results``: what Gradescope's ``run_autograder``
starts (the command line is :func:`autograder.cli.gradescope_main`)."""

from autograder.cli import gradescope_main

raise SystemExit(gradescope_main())
