#!/usr/bin/env python3
"""bench_smoke.py BENCH_KERNELS BENCH_MODELS [BENCH_MACHINE] - the benchmarks run and report
what they claim.

Timing-free checks (no speed is asserted): bench_kernels' JSON lists a measured peak for every
tier whose kernels it runs, each kernel's pct_peak is 100 * GFLOPS / its own tier's peak (and
/ MNET_PEAK_GFLOPS when that is set), bench_models runs a model end to end, and bench_machine's
pagetouch (x86-64 builds) maps every page of its own executable and reports a cost for each."""
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


def main():
    kernels, models = sys.argv[1], sys.argv[2]
    machine = sys.argv[3] if len(sys.argv) > 3 else None
    n = check_kernels(kernels)
    check_kernels(kernels, fixed=100)
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
    print(f"bench_smoke: {n} kernel benchmarks consistent with their tiers' peaks; "
          f"bench_models ran {len(rep['benchmarks'])}"
          + (f"; pagetouch read {pages} pages" if machine else ""))


if __name__ == "__main__":
    main()
