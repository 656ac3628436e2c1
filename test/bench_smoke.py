#!/usr/bin/env python3
"""bench_smoke.py BENCH_KERNELS BENCH_MODELS [BENCH_MACHINE] - the benchmarks run and report
what they claim.

Timing-free checks (no speed is asserted): bench_kernels' JSON lists a measured peak for every
tier whose kernels it runs, each kernel's pct_peak is 100 * GFLOPS / its own tier's peak (and
/ MNET_PEAK_GFLOPS when that is set), bench_models runs a model end to end, and bench_machine's
pagetouch (x86-64 builds) maps every page of its own executable and reports a cost for each.
bench_kernels --mnet_model registers the layers of the models it is given, and refuses bad
ones."""
import json
import math
import os
import re
import subprocess
import sys


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def check_kernels(exe, fixed=None):
    env = dict(os.environ)
    env.pop("MNET_PEAK_GFLOPS", None)
    if fixed is not None:
        env["MNET_PEAK_GFLOPS"] = str(fixed)
    rep = run_json([exe, "--benchmark_filter=^gemm/.*/v1_b7_pw/|^dwconv3x3/.*/v1_b3_dw/",
                    "--benchmark_min_time=0.001", "--benchmark_format=json"], env)
    ctx = rep["context"]
    assert ctx.get("mnet_build", "").startswith(("release", "debug")), ctx.get("mnet_build")
    if os.access("/proc/cpuinfo", os.R_OK):   # the CPU's name, for reports from two machines
        assert ctx.get("mnet_cpu"), ctx
    assert ctx.get("mnet_isa_selected"), ctx
    peaks = dict(kv.split("=") for kv in ctx["mnet_peak_gflops"].split())
    peaks = {k: float(v) for k, v in peaks.items()}
    tiers = {re.search(r"__(\w+)$", k).group(1) for k in ctx["mnet_kernels"].split()}
    assert tiers <= set(peaks), f"no peak for tiers {tiers - set(peaks)}: {peaks}"
    for tier, p in peaks.items():
        assert p > 0, (tier, p)
        if fixed is not None:
            assert p == fixed, (tier, p, fixed)
    benches = rep["benchmarks"]
    seen = set()
    for b in benches:
        tier = re.search(r"__(\w+)/", b["name"]).group(1)
        seen.add(tier)
        assert b["GFLOPS"] > 0, b["name"]
        want = 100.0 * b["GFLOPS"] / peaks[tier]
        assert abs(b["pct_peak"] - want) <= 1e-3 * want, (b["name"], b["pct_peak"], want)
    assert seen == tiers, f"kernels of tiers {tiers - seen} did not run"
    return len(benches)


def check_model_specs(exe):
    """--mnet_model: the shapes of the given models (derived by hand here from the architecture:
    MobileNet V1 at alpha 0.5 and 160x160, V3 Small 1.0 at 96) instead of the built-in ones, each
    named after its model and layer; bad specs refused with a message and status 2."""
    def names(*args):
        p = subprocess.run([exe, *args, "--benchmark_list_tests"], capture_output=True, text=True)
        assert p.returncode == 0, (args, p.stderr)
        return p.stdout.split()
    got = names("--mnet_model=v1:0.5:160")
    scalar = {n.split("/", 2)[2] for n in got if "__scalar/" in n}
    for want in ("v1-0.5-160_l0/h=160,w=160,cin=3,cout=16,s=2",   # stem 3x3/2 to 16
                 "v1-0.5-160_l1/h=80,w=80,c=16,s=1", "v1-0.5-160_l2/m=6400,n=32,k=16",
                 "v1-0.5-160_l3/h=80,w=80,c=32,s=2", "v1-0.5-160_l14/m=100,n=256,k=256",
                 "v1-0.5-160_l26/m=25,n=512,k=512", "v1-0.5-160_l27/m=1,n=1000,k=512"):
        assert want in scalar, (want, sorted(scalar))
    # layers 14, 16, ..., 22 share one shape: benchmarked once, under the first
    assert len(scalar) == 20 and not any("_b7_" in n or n.startswith("v1_") for n in scalar), scalar
    both = names("--mnet_model=v1:0.5:160,v3-small:1:96", "--mnet_model=v2")
    assert any("/v3-small-1-96_l" in n and "dwconv5x5/" in n and ",act=hswish" in n for n in both)
    assert any("/v2_l" in n for n in both) and set(got) < set(both), both[:5]
    for bad, why in (("v9", "not ARCH"), ("v1:0", "not ARCH"), ("v1:0.5:x", "not ARCH"),
                     ("", "empty model spec"), ("v1:0.5:8", "resolution 8"),
                     ("/nonexistent/m.mnet", "cannot open"), ("v1,v2:abc", "not ARCH")):
        p = subprocess.run([exe, f"--mnet_model={bad}", "--benchmark_list_tests"],
                           capture_output=True, text=True)
        assert p.returncode == 2 and why in p.stderr and not p.stdout, (bad, p.returncode, p.stderr)
    p = subprocess.run([exe, "--mnet_model", "v1"], capture_output=True, text=True)
    assert p.returncode == 2 and "after '='" in p.stderr, p.stderr
    return len(got)


def check_pagetouch(exe):
    rep = run_json([exe, "--benchmark_filter=^pagetouch$", "--benchmark_min_time=0.001",
                    "--benchmark_format=json"])
    [b] = rep["benchmarks"]
    assert not b.get("error_occurred"), b.get("error_message")
    want = os.path.getsize(exe) // os.sysconf("SC_PAGE_SIZE")
    assert b["pages"] == want, (b["pages"], want)
    assert b["populated"] in (0, 1), b["populated"]
    for k in ("populate_us", "first_us", "again_us", "cold_us", "fault_us"):
        assert math.isfinite(b[k]) and b[k] >= 0, (k, b[k])
    return want


def check_peak_store(exe):
    """peak_store/TIER/S: every tier this CPU runs reports the loop's rate with its S stores and
    what a store costs, in FMAs (finite: a NaN would mean its baseline loop took no time); a tier
    the CPU lacks is skipped as such."""
    rep = run_json([exe, "--benchmark_filter=^peak_store/", "--benchmark_min_time=0.001",
                    "--benchmark_format=json"])
    names = {b["name"] for b in rep["benchmarks"]}
    want = {f"peak_store/fma_{t}/{s}" for t in ("avx2", "avx512") for s in (1, 2, 4)}
    assert names == want, (sorted(names), sorted(want))
    ran = 0
    for b in rep["benchmarks"]:
        if b.get("error_occurred"):
            assert "lacks" in b.get("error_message", ""), (b["name"], b.get("error_message"))
            continue
        assert b["GFLOPS"] > 0 and math.isfinite(b["fma_per_store"]), b
        ran += 1
    return ran


def check_pool_handoff(exe):
    """pool/handoff/Nus: the two-thread pool's hand-off cost on top of parts of N us each (never
    negative: the calling thread's own part alone takes N us), and the share of tasks whose
    worker part the calling thread ran (0..1); xcore/pingpong: a line's trip between two CPUs
    (above zero); skipped, as such, only with fewer than two CPUs."""
    rep = run_json([exe, "--benchmark_filter=^pool/handoff/|^xcore/pingpong$",
                    "--benchmark_min_time=0.001", "--benchmark_format=json"])
    names = {b["name"] for b in rep["benchmarks"]}
    want = {f"pool/handoff/{n}us" for n in (2, 5, 10, 20)} | {"xcore/pingpong"}
    assert names == want, (sorted(names), sorted(want))
    ran = 0
    for b in rep["benchmarks"]:
        if b.get("error_occurred"):
            assert "two CPUs" in b.get("error_message", ""), (b["name"], b.get("error_message"))
            assert len(os.sched_getaffinity(0)) < 2, b
            continue
        if b["name"] == "xcore/pingpong":
            assert 0 < b["one_way_ns"] < 1e9, b
        else:
            assert 0 <= b["overhead_us"] < 1e6 and math.isfinite(b["overhead_us"]), b
            assert 0 <= b["taken_over"] <= 1, b
        ran += 1
    return ran


def check_xcore_dw(exe):
    """xcore/dw/ISA/SHAPE/sS: the depthwise layers of 28x28 and below, each tier's, report the
    kernel's time on an input another CPU wrote and on one this CPU wrote (both above zero) and
    their ratio (finite, above zero); a tier the build or the CPU lacks is skipped for every
    shape, and a machine of one CPU skips them all, as such."""
    rep = run_json([exe, "--benchmark_filter=^xcore/dw/", "--benchmark_min_time=0.001",
                    "--benchmark_format=json"])
    names = {b["name"] for b in rep["benchmarks"]}
    shapes = ("28x28x256/s1", "28x28x256/s2", "14x14x512/s1", "14x14x512/s2", "7x7x1024/s1",
              "28x28x192/s1", "28x28x192/s2", "14x14x384/s1", "14x14x576/s1", "14x14x576/s2",
              "7x7x960/s1")
    want = {f"xcore/dw/{t}/{s}" for t in ("avx2", "avx512") for s in shapes}
    assert names == want, (sorted(names - want), sorted(want - names))
    ran = 0
    skipped = {}   # tier -> shapes skipped because the build or the CPU lacks that tier
    for b in rep["benchmarks"]:
        if b.get("error_occurred"):
            msg = b.get("error_message", "")
            if "not available" in msg:
                tier = b["name"].split("/")[2]
                skipped[tier] = skipped.get(tier, 0) + 1
                continue
            assert "two CPUs" in msg and len(os.sched_getaffinity(0)) < 2, (b["name"], msg)
            continue
        assert b["cross_us"] > 0 and b["local_us"] > 0, b
        assert 0 < b["x_cross"] < 1e6 and math.isfinite(b["x_cross"]), b
        ran += 1
    # a tier is there for every shape or for none
    assert all(n == len(shapes) for n in skipped.values()), skipped
    return ran


def main():
    kernels, models = sys.argv[1], sys.argv[2]
    machine = sys.argv[3] if len(sys.argv) > 3 else None
    n = check_kernels(kernels)
    check_kernels(kernels, fixed=100)
    specs = check_model_specs(kernels)
    # every (arch, alpha, res) once: more models than any cache of a few, each must run
    rep = run_json([models, "--benchmark_filter=/threads:1/batch:1/",
                    "--benchmark_min_time=0.001", "--benchmark_format=json"])
    names = {b["name"].split("/")[1] for b in rep["benchmarks"]}
    want = {f"{a}-{al}-{r}" for a in ("v1", "v2", "v3-large", "v3-small") for al in ("0.5", "1.0")
            for r in (128, 160, 224)}
    assert names == want, f"missing {want - names}, unexpected {names - want}"
    failed = [(b["name"], b.get("error_message")) for b in rep["benchmarks"] if b.get("error_occurred")]
    assert not failed, failed
    for b in rep["benchmarks"]:
        assert b["images_per_s"] > 0 and b["cold_ms"] > 0 and b["flushed_ms"] > 0, b
    assert rep["context"].get("mnet_isa_selected") and rep["context"].get("mnet_build"), rep["context"]
    pages = check_pagetouch(machine) if machine else 0
    stores = check_peak_store(machine) if machine else 0
    handoffs = check_pool_handoff(machine) if machine else 0
    xdw = check_xcore_dw(machine) if machine else 0
    print(f"bench_smoke: {n} kernel benchmarks consistent with their tiers' peaks; "
          f"--mnet_model=v1:0.5:160 registered {specs}; "
          f"bench_models ran {len(rep['benchmarks'])}"
          + (f"; pagetouch read {pages} pages; peak_store ran {stores}; pool/handoff and pingpong ran "
             f"{handoffs}; xcore/dw ran {xdw}" if machine else ""))


if __name__ == "__main__":
    main()
