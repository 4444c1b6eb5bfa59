"""pytest under an address-space bound, for mutation runs (``make mutate``): a mutant that
allocates without end fails its tests instead of taking the machine (one mutant of the
medium checks reached 18 GiB of the 23 on a shared machine, 2026-12-05)."""

from __future__ import annotations

import resource
import sys

LIMIT_BYTES = 8 * 2**30  # torch's imports reserve about 3 GiB of address space


def bound(limit: int = LIMIT_BYTES) -> None:
    """This process and every process it starts: at most ``limit`` bytes of address space."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))


if __name__ == "__main__":
    import pytest

    bound()
    sys.exit(pytest.main(sys.argv[1:]))
