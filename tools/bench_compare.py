#!/usr/bin/python3
"""bench_compare.py - two Google Benchmark JSON reports side by side (two CPUs, two ISAs, two
commits): a table with ratios, and a PNG bar chart.

    /usr/bin/python3 tools/bench_compare.py A.json B.json [--metric time|GFLOPS|images_per_s|...]
        [--label-a NAME] [--label-b NAME] [--filter REGEX] [--tier-a ISA --tier-b ISA]
        [--png chart.png]

Reports come from `bench_kernels` / `bench_models` / `bench_machine` with
--benchmark_format=json (or --benchmark_out=F --benchmark_out_format=json).  With repetitions,
a report's median aggregate is used, or, when it has none (--benchmark_report_aggregates_only
off and no aggregates), the median of the repetitions.  The ratio is B / A for the chosen metric
(for time, below 1 means B is faster; for rates, above 1 means B is faster); the summary gives
the median and the geometric mean of the ratios.  Benchmarks present in only one report are
counted at the end.

Two ISAs: `bench_models` run with MNET_ISA=avx2 and MNET_ISA=avx512 gives reports with the same
names, compared as they are.  `bench_kernels` names each kernel with its tier
(gemm/mnet_f32_gemm_minmax_6x16__avx2/v1_b7_pw/...); --tier-a avx2 --tier-b avx512 keeps each
report's kernels of that tier and matches them by op and shape, so one report can be compared
with itself (A.json A.json --tier-a avx2 --tier-b avx512) or two CPUs' reports tier against tier.

Exit status: 0, 1 when nothing can be compared, 2 for a report that cannot be read.
"""
import argparse
import json
import math
import re
import statistics
import sys

KERNEL = re.compile(r"^([^/]+)/mnet_f32_\w+?__(\w+)(/.*)?$")   # op/kernel__tier/shape...


class ReportError(Exception):
    pass


def load(path):
    """(context, {name: [run, ...]}) of one report; a median aggregate replaces the runs."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise ReportError(f"{path}: {e.strerror or e}")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ReportError(f"{path}: not JSON ({e})")
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise ReportError(f"{path}: not a Google Benchmark JSON report (no \"benchmarks\" list)")
    ctx = doc.get("context") if isinstance(doc.get("context"), dict) else {}
    runs, medians = {}, {}
    for b in doc["benchmarks"]:
        if not isinstance(b, dict) or b.get("error_occurred") or b.get("skipped"):
            continue
        name = b.get("run_name", b.get("name"))
        if not isinstance(name, str):
            continue
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = [b]
        else:
            runs.setdefault(name, []).append(b)
    runs.update(medians)
    return ctx, runs


def select_tier(runs, tier):
    """Only the kernels of `tier`, keyed by op and shape without the kernel's name."""
    out = {}
    for name, b in runs.items():
        m = KERNEL.match(name)
        if m and m.group(2) == tier:
            out[m.group(1) + (m.group(3) or "")] = b
    return out


def metric(b, key):
    """The metric of one run, or None if it lacks it."""
    if key == "time":
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}.get(b.get("time_unit", "ns"))
        t = b.get("real_time")
        return None if scale is None or not isinstance(t, (int, float)) else t * scale   # ms
    v = b.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def value(runs, key):
    """The median of the runs' finite, non-negative values: every figure mnet's benchmarks
    report is >= 0 when measured, and a negative one (bench_models' flushed_ms of -1 when its
    64 MiB could not be mapped) means that it was not."""
    vals = [v for v in (metric(b, key) for b in runs)
            if v is not None and math.isfinite(v) and v >= 0]
    return statistics.median(vals) if vals else None


def label(ctx, path, tier):
    parts = [ctx.get("mnet_cpu"), tier or ctx.get("mnet_isa_selected") or ctx.get("mnet_isa")]
    if not parts[0]:
        parts.append(ctx.get("host_name"))
    return " ".join(str(p) for p in parts if p) or path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--metric", default="time")
    ap.add_argument("--label-a")
    ap.add_argument("--label-b")
    ap.add_argument("--filter")
    ap.add_argument("--tier-a", help="compare only A's kernels of this tier (bench_kernels)")
    ap.add_argument("--tier-b", help="compare only B's kernels of this tier (bench_kernels)")
    ap.add_argument("--png")
    args = ap.parse_args(argv)
    if bool(args.tier_a) != bool(args.tier_b):
        ap.error("--tier-a and --tier-b go together")
    try:
        rx = re.compile(args.filter) if args.filter else None
    except re.error as e:
        ap.error(f"--filter: {e}")
    try:
        ctx_a, a = load(args.a)
        ctx_b, b = load(args.b)
    except ReportError as e:
        print(f"bench_compare: {e}", file=sys.stderr)
        return 2
    if args.tier_a:
        a, b = select_tier(a, args.tier_a), select_tier(b, args.tier_b)
    la = args.label_a or label(ctx_a, args.a, args.tier_a)
    lb = args.label_b or label(ctx_b, args.b, args.tier_b)
    if la == lb and not (args.label_a or args.label_b):
        la, lb = la + " (A)", lb + " (B)"
    keep = lambda n: not rx or rx.search(n)
    names = [n for n in a if n in b and keep(n)]
    if not names:
        print("bench_compare: no benchmark is in both reports"
              + (f" with tiers {args.tier_a} / {args.tier_b}" if args.tier_a else "")
              + (" and matches --filter" if rx else ""), file=sys.stderr)
        return 1
    unit = "ms" if args.metric == "time" else args.metric
    rows = []
    for n in names:
        va, vb = value(a[n], args.metric), value(b[n], args.metric)
        if va is None or vb is None:
            continue
        rows.append((n, va, vb, vb / va if va else float("nan")))
    if not rows:
        print(f"bench_compare: no benchmark has the metric '{args.metric}' in both reports",
              file=sys.stderr)
        return 1
    w = max(len(r[0]) for r in rows)
    print(f"{'benchmark':{w}}  {la + ' (' + unit + ')':>22}  {lb + ' (' + unit + ')':>22}  {'B/A':>6}")
    for n, va, vb, r in rows:
        print(f"{n:{w}}  {va:22.4g}  {vb:22.4g}  {r:6.3f}")
    ratios = sorted(r for *_, r in rows if math.isfinite(r) and r > 0)
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"\n{len(rows)} benchmarks; B/A median {statistics.median(ratios):.3f}, "
              f"geometric mean {geo:.3f}, min {ratios[0]:.3f}, max {ratios[-1]:.3f}")
    only = sorted(n for n in set(a) ^ set(b) if keep(n))
    if only:
        print(f"in one report only: {len(only)} (e.g. {only[0]})")
    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        h = min(max(3.0, 0.28 * len(rows) + 1.5), 300.0)
        fig, ax = plt.subplots(figsize=(11, h))
        ys = range(len(rows))
        ax.barh([y - 0.2 for y in ys], [r[1] for r in rows], height=0.4, label=la)
        ax.barh([y + 0.2 for y in ys], [r[2] for r in rows], height=0.4, label=lb)
        vals = [v for r in rows for v in r[1:3] if v > 0]
        if vals and max(vals) > 100 * min(vals):
            ax.set_xscale("log")   # kernels of very different sizes on one axis
        ax.set_yticks(list(ys))
        ax.set_yticklabels([f"{r[0]}  (x{r[3]:.2f})" for r in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(unit)
        ax.legend()
        ax.set_title(f"{args.metric}: {la} vs {lb} (B/A in brackets)")
        fig.tight_layout()
        try:
            fig.savefig(args.png, dpi=110)
        except OSError as e:
            print(f"bench_compare: cannot write {args.png}: {e.strerror or e}", file=sys.stderr)
            return 2
        print(f"chart: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
