"""Grading, one folder per process.

The modules here are the host side, the ``grade`` process: the pipeline (``grade.py``), one
exercise's judge started and watched (``exercise.py``), the static scan and the student
files read without following links. Below it, one subpackage per process or shared part:

* ``judge/``: the judge, one trusted process per exercise: it runs ``checks/`` and decides
  every verdict;
* ``worker/``: the worker, the sandboxed process that imports submission code; the whole
  folder is copied into each worker's job folder and imports nothing outside it;
* ``sandbox/``: confining a worker (bubblewrap, uid nobody), used by the host and the judge;
* ``processes/``: process control the host and the judge share (limits, process trees,
  the machine-wide device lease); never in a worker.
"""
