"""Timing helpers for the speed sections of the notebooks and for benchmarks/."""
import time


def best_time(fn, *args, repeat=5, min_seconds=0.05):
    """Best wall time of one call of fn(*args), in seconds.

    Each of `repeat` rounds runs the call enough times to last `min_seconds`, so quick calls
    are timed over many runs; the best round is the least disturbed by the rest of the machine.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    best = float("inf")
    for _ in range(repeat):
        runs, start = 0, time.perf_counter()
        while True:
            fn(*args)
            runs += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / runs)
    return best


def format_seconds(seconds):
    """Seconds as a short human string: '2.31 s', '14.2 ms', '87 µs'."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"
