#!/usr/bin/python3
"""bench_compare.py - two Google Benchmark JSON reports side by side (two CPUs, two ISAs, two
commits): a table with ratios, and a PNG bar chart.

    /usr/bin/python3 tools/bench_compare.py A.json B.json [--metric time|GFLOPS|images_per_s|...]
        [--label-a NAME] [--label-b NAME] [--filter REGEX] [--png chart.png]

Reports come from `bench_kernels` / `bench_models` with --benchmark_format=json (or
--benchmark_out=F --benchmark_out_format=json).  With repetitions, the median aggregate is used.
The ratio is B / A for the chosen metric (for time, below 1 means B is faster; for rates, above
1 means B is faster).  Benchmarks present in only one report are listed at the end.
"""
import argparse
import json
import re
import sys


def load(path):
    with open(path) as f:
        doc = json.load(f)
    runs, medians = {}, {}
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = b
        else:
            runs.setdefault(name, b)
    runs.update(medians)
    return doc.get("context", {}), runs


def metric(b, key):
    if key == "time":
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
        return b["real_time"] * scale   # milliseconds
    v = b.get(key)
    if v is None:
        raise KeyError(key)
    return float(v)


def label(ctx, path):
    parts = [ctx.get("mnet_isa"), ctx.get("host_name")]
    return " ".join(p for p in parts if p) or path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--metric", default="time")
    ap.add_argument("--label-a")
    ap.add_argument("--label-b")
    ap.add_argument("--filter")
    ap.add_argument("--png")
    args = ap.parse_args(argv)
    ctx_a, a = load(args.a)
    ctx_b, b = load(args.b)
    la, lb = args.label_a or label(ctx_a, args.a), args.label_b or label(ctx_b, args.b)
    rx = re.compile(args.filter) if args.filter else None
    names = [n for n in a if n in b and (not rx or rx.search(n))]
    if not names:
        print("bench_compare: no benchmark is in both reports" + (" and matches --filter" if rx else ""),
              file=sys.stderr)
        return 1
    unit = "ms" if args.metric == "time" else args.metric
    rows = []
    for n in names:
        try:
            va, vb = metric(a[n], args.metric), metric(b[n], args.metric)
        except KeyError:
            continue
        rows.append((n, va, vb, vb / va if va else float("nan")))
    if not rows:
        print(f"bench_compare: no benchmark has the metric '{args.metric}'", file=sys.stderr)
        return 1
    w = max(len(r[0]) for r in rows)
    print(f"{'benchmark':{w}}  {la + ' (' + unit + ')':>22}  {lb + ' (' + unit + ')':>22}  {'B/A':>6}")
    for n, va, vb, r in rows:
        print(f"{n:{w}}  {va:22.4g}  {vb:22.4g}  {r:6.3f}")
    ratios = sorted(r for *_, r in rows)
    print(f"\n{len(rows)} benchmarks; B/A median {ratios[len(ratios) // 2]:.3f}, "
          f"min {ratios[0]:.3f}, max {ratios[-1]:.3f}")
    only = sorted(set(a) ^ set(b))
    if only:
        print(f"in one report only: {len(only)} (e.g. {only[0]})")
    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        h = max(3.0, 0.28 * len(rows) + 1.5)
        fig, ax = plt.subplots(figsize=(11, h))
        ys = range(len(rows))
        ax.barh([y - 0.2 for y in ys], [r[1] for r in rows], height=0.4, label=la)
        ax.barh([y + 0.2 for y in ys], [r[2] for r in rows], height=0.4, label=lb)
        ax.set_yticks(list(ys))
        ax.set_yticklabels([f"{r[0]}  (x{r[3]:.2f})" for r in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(unit)
        ax.legend()
        ax.set_title(f"{args.metric}: {la} vs {lb}")
        fig.tight_layout()
        fig.savefig(args.png, dpi=110)
        print(f"chart: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
