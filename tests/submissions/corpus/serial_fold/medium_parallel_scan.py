# A plain serial loop under the parallel scan's name: depth n - 1.
def hillis_steele_scan(xs, op=operator.add):
    out = []
    for x in xs:
        out.append(op(out[-1], x) if out else x)
    return out
