import os
import sys


def scan_depth(n):
    os._exit(7)


def scan_work(n):
    sys.exit(1)
