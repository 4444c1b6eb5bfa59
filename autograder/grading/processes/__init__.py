"""Process control the host side and the judge share; never in a worker.

``supervisor.py``: limits, watchdogs, reaping and CPU time of process trees.
``device_lease.py``: the machine-wide lease per device around timed measurements.
"""
