"""Timing shared by the peers, as graft-bench times: one warm-up run, then `repeats` timed runs."""
import time


def measure(body, repeats):
    """Wall-clock seconds of each of `repeats` runs of `body`, after one warm-up run."""
    body()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return times
