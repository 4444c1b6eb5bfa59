"""The judge's reference implementations, loaded by a worker that holds no submission code.

Timing verdicts compare the submission with these, timed the same way in the same run, so a
busy machine slows both alike. Imports are lazy: the first (untimed) warm-up call pays.
"""


def attention_style_torch(xs):
    """The library reduction the lesson asks for (the hint names it too)."""
    import torch

    return torch.mean(xs)


def cuda_sleep(cycles):
    """A kernel of known length, then a synchronisation: the judge times the call."""
    import torch

    torch.cuda._sleep(int(cycles))
    torch.cuda.synchronize()


def last_element(xs):
    """``xs[-1]``: an output of the timed functions' own kind and size (a 0-dim tensor, a row
    of d floats, an array of d), so a sample of it costs, outside ``run``, what staging the
    same inputs and fetching such outputs costs: the base of the bound on a submission's
    untimed work (:mod:`autograder.grading.judge.checks.timing`)."""
    return xs[-1]
