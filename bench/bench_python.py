#!/usr/bin/python3
"""bench_python.py - the GIL is released during inference: N Python threads, each with its own
context on one shared model, against the same work done by one thread.

    MNET_LIBRARY=build/libmnet.so.0 PYTHONPATH=python /usr/bin/python3 bench/bench_python.py \
        [--arch v2] [--alpha 1.0] [--res 224] [--threads 2] [--runs 20]

Prints the serial and parallel wall time and the speed-up (median of 3 repetitions)."""
import argparse
import statistics
import threading
import time

import numpy as np

import mnet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="v2")
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--res", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    model = mnet.Model.random(a.arch, a.alpha, a.res, 1000, seed=0)
    x = np.random.default_rng(0).standard_normal((1, a.res, a.res, 3)).astype(np.float32)
    ctxs = [model.context() for _ in range(a.threads)]
    for c in ctxs:
        c.run(x)

    def work(c):
        for _ in range(a.runs):
            c.run(x)

    serial, parallel = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        for c in ctxs:
            work(c)
        serial.append(time.perf_counter() - t0)
        ts = [threading.Thread(target=work, args=(c,)) for c in ctxs]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        parallel.append(time.perf_counter() - t0)
    s, p = statistics.median(serial), statistics.median(parallel)
    n = a.threads * a.runs
    print(f"{a.arch} {a.alpha} {a.res}: {n} inferences; one thread {s * 1e3:.1f} ms "
          f"({n / s:.1f}/s), {a.threads} threads {p * 1e3:.1f} ms ({n / p:.1f}/s): "
          f"speed-up {s / p:.2f}x ({mnet.isa_selected()}, {mnet.LIB_PATH})")


if __name__ == "__main__":
    main()
