from solutions.medium_parallel_scan import *  # noqa: F403
