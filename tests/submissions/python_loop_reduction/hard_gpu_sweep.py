# The mean as a Python loop over elements: right value, serial depth.
def attention_style_torch(xs):
    total = torch.zeros((), dtype=xs.dtype, device=xs.device)
    for x in xs:
        total = total + x
    return total / xs.numel()
