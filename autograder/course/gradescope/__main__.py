"""``python -m autograder.course.gradescope run|results``: what Gradescope's ``run_autograder``
starts (the command line of :mod:`autograder.course.gradescope.run`)."""

from autograder.course.gradescope.run import main

raise SystemExit(main())
