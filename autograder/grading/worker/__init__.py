"""The worker: the sandboxed process that imports and runs submission code.

This whole folder is what a worker gets: the judge copies it into every worker's job folder
(:func:`autograder.grading.judge.spawn.prepare_job`), so its modules import only the
standard library, numpy, torch, matplotlib and each other (``tests/test_worker_folder.py``).
``main.py`` answers the judge's requests; ``protocol.py`` is the framing both sides speak.
"""
