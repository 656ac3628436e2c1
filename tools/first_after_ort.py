#!/usr/bin/env python3
"""first_after_ort.py - mnet's first inference right after ONNX Runtime's runs, over and over.

Runs ONNX Runtime's bench (../shared/peers/ort_bench.js) `--ort-runs` times in a row, then one
`mnet bench` process, `--trials` times, and prints each mnet process's first inference over its
median and the sorted list: the sequence in which `compare_ort.py` saw first two-thread inferences
of 2.3-2.6x (docs/PERFORMANCE.md, "The first two-thread inference (session 19)").  The model files
are compare_ort's (run it once first: it writes them to --work).

  NODE_PATH=$HOME/peers-node/node_modules /usr/bin/python3 tools/first_after_ort.py \\
      --model v2-1.0-160 --threads 2 --trials 10 [--mnet OTHER_BUILD/mnet]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_ort  # noqa: E402  (its run_ort / run_mnet, so the sequence is the same)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="v2-1.0-160", help="a compare_ort model name")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--ort-runs", type=int, default=2, help="ONNX Runtime processes before each mnet one")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--mnet", default=os.path.join(HERE, "..", "build", "mnet"))
    ap.add_argument("--peers", default=os.path.join(HERE, "..", "..", "shared", "peers"))
    ap.add_argument("--work", default="/tmp/mnet-vs-ort")
    ap.add_argument("--pin-cpu", type=int, default=1)
    args = ap.parse_args()
    for name, low in (("trials", 1), ("ort_runs", 0), ("runs", 1), ("threads", 1)):
        if getattr(args, name) < low:
            ap.error(f"--{name.replace('_', '-')} must be >= {low}")
    args.batch = 1
    base = os.path.join(args.work, args.model)
    onnx, nchw, mnet = base + ".onnx", base + ".in.f32", base + ".mnet"
    for f in (onnx, nchw, mnet):
        if not os.path.exists(f):
            sys.exit(f"first_after_ort: {f} is missing (run tools/compare_ort.py --models {args.model} first)")
    res = compare_ort.parse_spec(args.model)[2]
    ratios = []
    for t in range(args.trials):
        for _ in range(args.ort_runs):
            compare_ort.run_ort(onnx, nchw, res, args.threads, args)
        m = compare_ort.run_mnet(mnet, args.threads, args)
        first, median = float(m["first_ms"]), float(m["median_ms"])
        ratios.append(first / median)
        print(f"trial {t + 1}: first {first:.3f} ms, median {median:.3f} ms, first / median "
              f"{ratios[-1]:.2f}", flush=True)
    print("first / median, sorted: " + " ".join(f"{r:.2f}" for r in sorted(ratios)))


if __name__ == "__main__":
    main()
