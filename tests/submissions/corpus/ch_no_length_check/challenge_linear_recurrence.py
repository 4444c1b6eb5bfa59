# Right on equal lengths; lengths that differ are cut by zip instead of raising ValueError.
def linear_recurrence(a, x):
    prefixes = list(zip(a, x))
    offset = 1
    while offset < len(prefixes):
        prefixes = prefixes[:offset] + [
            combine(prefixes[j - offset], prefixes[j]) for j in range(offset, len(prefixes))
        ]
        offset *= 2
    return [h for _, h in prefixes]
