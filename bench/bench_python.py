#!/usr/bin/python3
"""bench_python.py - the GIL is released during inference: N Python threads, each with its own
context on one shared model, against the same work done by one thread.

    MNET_LIBRARY=build/libmnet.so.0 PYTHONPATH=python /usr/bin/python3 bench/bench_python.py \
        [--arch v2] [--alpha 1.0] [--res 224] [--threads 2] [--runs 20] [--reps 5]

Each repetition times one serial pass (one thread runs every context's --runs inferences) and
one parallel pass (a thread per context; the threads are started beforehand and released
together from a barrier, so their start-up is not timed); the order of the two alternates from
one repetition to the next.  Prints the median serial and parallel wall time over --reps
repetitions and the speed-up, and a warning on stderr when a timed pass is too short (under
20 ms) to be trusted: raise --runs then."""
import argparse
import statistics
import sys
import threading
import time

SHORT_PASS_S = 0.020


def positive_int(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="v2")
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--res", type=int, default=224)
    ap.add_argument("--threads", type=positive_int, default=2)
    ap.add_argument("--runs", type=positive_int, default=20, help="inferences per thread")
    ap.add_argument("--reps", type=positive_int, default=5, help="repetitions (median)")
    a = ap.parse_args()
    try:
        import numpy as np
        import mnet
    except ImportError as e:
        sys.exit(f"bench_python: cannot import mnet: {e}\n(run it with PYTHONPATH=python and "
                 "MNET_LIBRARY=build/libmnet.so.0 from the repository's root, as its docstring "
                 "shows)")
    try:
        model = mnet.Model.random(a.arch, a.alpha, a.res, 1000, seed=0)
        ctxs = [model.context() for _ in range(a.threads)]
    except (ValueError, mnet.Error) as e:
        sys.exit(f"bench_python: {e}")
    x = np.random.default_rng(0).standard_normal((1, a.res, a.res, 3)).astype(np.float32)
    for c in ctxs:
        c.run(x)

    def work(c):
        for _ in range(a.runs):
            c.run(x)

    def serial_pass():
        t0 = time.perf_counter()
        for c in ctxs:
            work(c)
        return time.perf_counter() - t0

    def parallel_pass():
        start = threading.Barrier(len(ctxs) + 1)

        def worker(c):
            start.wait()
            work(c)

        ts = [threading.Thread(target=worker, args=(c,)) for c in ctxs]
        for t in ts:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in ts:
            t.join()
        return time.perf_counter() - t0

    serial, parallel = [], []
    for rep in range(a.reps):
        if rep % 2 == 0:
            serial.append(serial_pass())
            parallel.append(parallel_pass())
        else:
            parallel.append(parallel_pass())
            serial.append(serial_pass())
    s, p = statistics.median(serial), statistics.median(parallel)
    n = a.threads * a.runs
    print(f"{a.arch} {a.alpha} {a.res}: {n} inferences; one thread {s * 1e3:.1f} ms "
          f"({n / s:.1f}/s), {a.threads} threads {p * 1e3:.1f} ms ({n / p:.1f}/s): "
          f"speed-up {s / p:.2f}x (median of {a.reps}; {mnet.isa_selected()}, {mnet.LIB_PATH})")
    shortest = min(serial + parallel)
    if shortest < SHORT_PASS_S:
        print(f"bench_python: warning: a timed pass took only {shortest * 1e3:.1f} ms, too short "
              "for a steady figure; raise --runs", file=sys.stderr)


if __name__ == "__main__":
    main()
