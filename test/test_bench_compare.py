#!/usr/bin/python3
"""test_bench_compare.py - tools/bench_compare.py on hand-made reports and on a real one.

    test_bench_compare.py TOOLS_DIR [BENCH_KERNELS]

Hand-made Google Benchmark JSON reports check the arithmetic (time units, B / A, the median
aggregate against the repetitions, the median of repetitions when there is no aggregate, rates,
matching kernels of two tiers by op and shape), the summary line, the PNG, and that unreadable
or unrelated reports give a message and a non-zero status instead of a traceback.  With
BENCH_KERNELS, one real report (two tiers of one GEMM shape) goes through --tier-a/--tier-b.
Prints "N passed, N failed".
"""
import json
import os
import re
import subprocess
import sys
import tempfile

from scripttest import run

TOOLS = sys.argv[1]
BENCH_KERNELS = sys.argv[2] if len(sys.argv) > 2 else None
TOOL = os.path.join(TOOLS, "bench_compare.py")
TMP = tempfile.mkdtemp(prefix="mnet-bench-compare-")


def bench(name, real_time, unit="ms", **extra):
    b = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
         "iterations": 10, "real_time": real_time, "cpu_time": real_time, "time_unit": unit}
    b.update(extra)
    return b


def report(path, benches, **ctx):
    with open(os.path.join(TMP, path), "w") as f:
        json.dump({"context": ctx, "benchmarks": benches}, f)
    return os.path.join(TMP, path)


def compare(*args):
    p = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


def ratio_of(out, name):
    for line in out.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no row for {name} in:\n{out}")


def t_time_ratio_across_units():
    a = report("a.json", [bench("m/x", 2.0, "ms"), bench("m/y", 500.0, "us")], mnet_cpu="CPU A")
    b = report("b.json", [bench("m/x", 1.0, "ms"), bench("m/y", 1.0, "ms")], mnet_cpu="CPU B")
    rc, out, err = compare(a, b)
    assert rc == 0, err
    assert abs(ratio_of(out, "m/x") - 0.5) < 1e-3, out
    assert abs(ratio_of(out, "m/y") - 2.0) < 1e-3, out     # 500 us against 1 ms
    assert "CPU A" in out and "CPU B" in out, out            # labelled by mnet_cpu
    # median of {0.5, 2.0} is 1.25, their geometric mean 1.0
    assert re.search(r"median 1\.250, geometric mean 1\.000, min 0\.500, max 2\.000", out), out


def t_median_aggregate_preferred():
    reps = [bench("m/x", t) for t in (1.0, 9.0, 9.0)]
    agg = bench("m/x_median", 4.0, run_name="m/x", run_type="aggregate", aggregate_name="median")
    mean = bench("m/x_mean", 100.0, run_name="m/x", run_type="aggregate", aggregate_name="mean")
    a = report("agg.json", reps + [mean, agg])
    b = report("one.json", [bench("m/x", 2.0)])
    rc, out, err = compare(a, b)
    assert rc == 0, err
    assert abs(ratio_of(out, "m/x") - 0.5) < 1e-3, out


def t_median_of_repetitions_without_aggregate():
    a = report("reps.json", [bench("m/x", t) for t in (1.0, 3.0, 2.0, 100.0, 2.5)])
    b = report("one2.json", [bench("m/x", 5.0)])
    rc, out, err = compare(a, b)
    assert rc == 0, err
    assert abs(ratio_of(out, "m/x") - 2.0) < 1e-3, out      # median 2.5, not the first 1.0


def t_rate_metric_and_missing_metric():
    a = report("ra.json", [bench("k/x", 1.0, GFLOPS=100.0), bench("k/y", 1.0)])
    b = report("rb.json", [bench("k/x", 1.0, GFLOPS=150.0), bench("k/y", 1.0)])
    rc, out, err = compare(a, b, "--metric", "GFLOPS")
    assert rc == 0, err
    assert abs(ratio_of(out, "k/x") - 1.5) < 1e-3, out
    assert "k/y" not in out, out                             # no GFLOPS: left out
    rc, out, err = compare(a, b, "--metric", "images_per_s")
    assert rc == 1 and "images_per_s" in err, (rc, err)
    # a negative figure is "not measured" (bench_models' flushed_ms of -1): left out too
    a = report("fa.json", [bench("m/x", 1.0, flushed_ms=2.0), bench("m/y", 1.0, flushed_ms=-1.0)])
    b = report("fb.json", [bench("m/x", 1.0, flushed_ms=3.0), bench("m/y", 1.0, flushed_ms=4.0)])
    rc, out, err = compare(a, b, "--metric", "flushed_ms")
    assert rc == 0 and abs(ratio_of(out, "m/x") - 1.5) < 1e-3, (rc, out, err)
    assert "m/y" not in out.split("\n\n")[0], out


def t_errors_and_skipped_runs():
    a = report("e.json", [bench("m/x", 1.0), bench("m/z", 1.0, error_occurred=True)])
    b = report("e2.json", [bench("m/x", 1.0), bench("m/z", 1.0)])
    rc, out, err = compare(a, b)
    assert rc == 0 and "m/z " not in out, out                # a failed run is not compared
    assert "in one report only: 1" in out, out


def t_tiers_matched_by_op_and_shape():
    k = lambda tier, tile, g: bench(f"gemm/mnet_f32_gemm_minmax_{tile}__{tier}/v1_b7_pw/m=196",
                                    1.0, GFLOPS=g)
    d = lambda tier, g: bench(f"dwconv3x3/mnet_f32_dwconv3x3_minmax_8c__{tier}/v1_b1_dw/h=112",
                              1.0, GFLOPS=g)
    a = report("k.json", [k("scalar", "4x4", 10.0), k("avx2", "6x16", 100.0),
                          k("avx512", "8x32", 200.0), d("avx2", 50.0)])
    rc, out, err = compare(a, a, "--tier-a", "avx2", "--tier-b", "avx512", "--metric", "GFLOPS")
    assert rc == 0, err
    assert abs(ratio_of(out, "gemm/v1_b7_pw/m=196") - 2.0) < 1e-3, out
    assert "dwconv3x3/v1_b1_dw" not in out.split("\n\n")[0], out   # only one tier has it
    rc, out, err = compare(a, a, "--tier-a", "avx2", "--tier-b", "neon")
    assert rc == 1 and "neon" in err, (rc, err)
    rc, out, err = compare(a, a, "--tier-a", "avx2")
    assert rc == 2 and "--tier-b" in err, (rc, err)


def t_filter():
    a = report("fa.json", [bench("m/v1", 1.0), bench("m/v2", 1.0)])
    b = report("fb.json", [bench("m/v1", 2.0), bench("m/v2", 3.0)])
    rc, out, err = compare(a, b, "--filter", "v2")
    assert rc == 0 and "m/v1" not in out and abs(ratio_of(out, "m/v2") - 3.0) < 1e-3, out
    rc, out, err = compare(a, b, "--filter", "v9")
    assert rc == 1 and "--filter" in err, (rc, err)
    rc, out, err = compare(a, b, "--filter", "(")
    assert rc == 2 and "--filter" in err, (rc, err)


def t_unreadable_reports():
    good = report("g.json", [bench("m/x", 1.0)])
    cases = {"missing.json": None, "bad.json": "{bad", "list.json": "[1, 2]",
             "nobench.json": '{"context": {}}', "binary.json": b"\xff\xfe\x00"}
    for name, text in cases.items():
        path = os.path.join(TMP, name)
        if text is not None:
            with open(path, "wb" if isinstance(text, bytes) else "w") as f:
                f.write(text)
        for args in ((path, good), (good, path)):
            rc, out, err = compare(*args)
            assert rc == 2 and name in err and err.startswith("bench_compare: "), (name, rc, err)
    odd = report("odd.json", [{"no_name": 1}, 7, bench("m/x", "fast")])
    rc, out, err = compare(odd, good)
    assert rc == 1, (rc, out, err)                           # nothing comparable, no traceback


def t_png_chart():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("  (matplotlib missing: chart not checked)")
        raise
    a = report("pa.json", [bench(f"m/{i}", 10.0 ** i) for i in range(4)])
    b = report("pb.json", [bench(f"m/{i}", 2 * 10.0 ** i) for i in range(4)])
    png = os.path.join(TMP, "chart.png")
    rc, out, err = compare(a, b, "--png", png)
    assert rc == 0 and f"chart: {png}" in out, (rc, out, err)
    with open(png, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000, len(data)
    rc, out, err = compare(a, b, "--png", os.path.join(TMP, "no", "such", "dir.png"))
    assert rc == 2 and "cannot write" in err, (rc, err)


def t_real_report():
    if not BENCH_KERNELS:
        return
    path = os.path.join(TMP, "real.json")
    subprocess.run([BENCH_KERNELS, "--benchmark_filter=^gemm/.*/v1_b7_pw/",
                    "--benchmark_min_time=0.001", "--benchmark_repetitions=3",
                    f"--benchmark_out={path}", "--benchmark_out_format=json"],
                   check=True, capture_output=True)
    with open(path) as f:
        ctx = json.load(f)["context"]
    tiers = sorted({k.rsplit("__", 1)[1] for k in ctx["mnet_kernels"].split()
                    if k.startswith("mnet_f32_gemm")})
    assert "scalar" in tiers, tiers
    other = [t for t in tiers if t != "scalar"]
    tier_b = other[0] if other else "scalar"
    rc, out, err = compare(path, path, "--tier-a", "scalar", "--tier-b", tier_b,
                           "--metric", "GFLOPS")
    assert rc == 0, err
    r = ratio_of(out, "gemm/v1_b7_pw/m=196,n=512,k=512")
    assert r > 0, out
    if tier_b == "scalar":
        assert abs(r - 1.0) < 1e-9, out


sys.exit(run(dict(globals())))
