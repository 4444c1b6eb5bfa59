# A float subclass whose __float__ reports the right fit while its stored value is wrong.
class _LiarFloat(float):
    def __new__(cls, truth):
        made = super().__new__(cls, 0.0)
        made.truth = truth
        return made

    def __float__(self):
        return self.truth


_honest_fit = fit_overhead


def fit_overhead(per_step):
    a, b = _honest_fit(per_step)
    return (_LiarFloat(a), _LiarFloat(b))
