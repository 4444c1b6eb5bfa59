# A depth formula that answers NaN (the solution's scan_work counts rounds with it, so the
# work formula fails too). Loses medium.scan_depth_formula and medium.scan_work_formula.
def scan_depth(n):
    return float("nan")
