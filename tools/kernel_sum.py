#!/usr/bin/python3
"""kernel_sum.py - a network's layers timed one by one as kernels alone, summed, against the
network run end to end: how much the runtime (fusion, buffers, scheduling) loses or gains over
its own kernels, and how far the kernels themselves are from the machine.

    /usr/bin/python3 tools/kernel_sum.py [MODEL | --arch v1|v2|v3-large|v3-small [--alpha A]
        [--res R]] [--isa X] [--cpu 1] [--runs 200] [--rounds 3] [--layers] [--mnet build/mnet]
        [--bench build/bench/bench_kernels]

`mnet info` lists the layers; bench_kernels times each layer's shape with its kernel alone, its
data hot in the caches as a benchmark loop leaves it; `mnet bench` times the network (median of
--runs).  The two alternate for --rounds rounds, and each figure is the median of its rounds, so
that a slow minute of the shared machine does not fall on one side only.  Both pinned to --cpu (-1: not pinned), one thread.
bench_kernels registers the shapes of MobileNet V1, V2 and V3 at alpha 1.0 and 224x224; layers
of other shapes are listed as missing and left out of the sum.  Ops without a kernel benchmark
of their own (squeeze-and-excite, pooling) are listed as not timed.
"""
import argparse
import json
import re
import statistics
import subprocess
import sys

LAYER = re.compile(r"^\s*(\d+)\s+(\w+)\s+(\d+)x(\d+)x(\d+)\s+(\d+)x(\d+)x(\d+)\s+(\d+)\s+(\w+)\s")


def layers(args, mnet_args):
    out = subprocess.run([args.mnet, "info"] + mnet_args, check=True, capture_output=True,
                         text=True).stdout
    rows = []
    for line in out.splitlines():
        m = LAYER.match(line)
        if m:
            i, op = int(m.group(1)), m.group(2)
            ih, iw, ic, oh, ow, oc, s = (int(g) for g in m.groups()[2:9])
            rows.append((i, op, ih, iw, ic, oh, ow, oc, s, m.group(10)))
    if not rows:
        sys.exit("kernel_sum: no layers in `mnet info` output")
    return rows


def key_of(op, ih, iw, ic, oh, ow, oc, s, act):
    """The bench_kernels family and shape parameters of one layer, or None.  The benchmark names
    carry a fused h-swish or h-sigmoid (",act=..."); ReLU6 and none are the same clamp."""
    fused = f",act={act}" if act in ("hswish", "hsigmoid") else ""
    if op == "conv3x3":
        return "conv3x3", f"h={ih},w={iw},cin={ic},cout={oc},s={s}{fused}"
    if op in ("dwconv3x3", "dwconv5x5"):
        return op, f"h={ih},w={iw},c={ic},s={s}{fused}"
    if op == "conv1x1":
        return "gemm", f"m={oh * ow},n={oc},k={ic}{fused}"
    if op == "fc":
        return "gemm", f"m=1,n={oc},k={ic}{fused}"
    return None


def pinned(cpu, cmd):
    return cmd if cpu < 0 else ["taskset", "-c", str(cpu)] + cmd


def kernel_times(args):
    """{(family, shape): microseconds} for the chosen ISA's kernels, one run of each."""
    cmd = pinned(args.cpu, [args.bench, f"--benchmark_filter=^(gemm|conv3x3|dwconv3x3|dwconv5x5)/"
                            f".*__{args.isa}/", "--benchmark_format=json",
                            f"--benchmark_min_time={args.min_time}"])
    doc = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
    times = {}
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred") or b.get("run_type") == "aggregate":
            continue
        parts = b.get("run_name", b["name"]).split("/")
        if len(parts) < 4:
            continue
        times[(parts[0], parts[3])] = b["real_time"] * scale[b["time_unit"]]
    if not times:
        sys.exit(f"kernel_sum: bench_kernels timed no {args.isa} kernel (does this CPU run it?)")
    return times


def network_ms(args, mnet_args):
    cmd = pinned(args.cpu, [args.mnet, "bench"] + mnet_args +
                 ["--isa", args.isa, "--runs", str(args.runs)])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(r"median_ms=([0-9.]+)", out)
    if not m:
        sys.exit("kernel_sum: no median_ms in `mnet bench` output")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", help="a .mnet file (else --arch)")
    ap.add_argument("--arch", default="v1")
    ap.add_argument("--alpha", help="with --arch: width multiplier")
    ap.add_argument("--res", help="with --arch: input resolution")
    ap.add_argument("--isa", default=None)
    ap.add_argument("--cpu", type=int, default=1)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", default="0.05")
    ap.add_argument("--layers", action="store_true", help="also each layer's kernel time")
    ap.add_argument("--mnet", default="build/mnet")
    ap.add_argument("--bench", default="build/bench/bench_kernels")
    args = ap.parse_args()
    mnet_args = [args.model] if args.model else ["--arch", args.arch]
    name = args.model or args.arch
    for opt in ("alpha", "res"):
        if getattr(args, opt) and not args.model:
            mnet_args += [f"--{opt}", getattr(args, opt)]
            name += f"-{getattr(args, opt)}"
    if args.isa is None:
        out = subprocess.run([args.mnet, "isa"], check=True, capture_output=True, text=True).stdout
        m = re.search(r"selected isa: (\w+)", out)
        if not m:
            sys.exit("kernel_sum: no selected isa in `mnet isa` output")
        args.isa = m.group(1)

    rows = layers(args, mnet_args)
    rounds = [(kernel_times(args), network_ms(args, mnet_args)) for _ in range(max(1, args.rounds))]
    times = {k: statistics.median(r[0].get(k, float("nan")) for r in rounds)
             for k in rounds[0][0]}
    net = statistics.median(r[1] for r in rounds)
    total, by_op, missing, untimed = 0.0, {}, [], []
    for i, op, *dims in rows:
        key = key_of(op, *dims)
        if key is None:
            untimed.append(f"{i} {op}")
        elif key not in times:
            missing.append(f"{i} {op} {key[1]}")
        else:
            total += times[key]
            by_op[op] = by_op.get(op, 0.0) + times[key]
            if args.layers:
                print(f"  layer {i:3d} {op:10s} {key[1]:36s} {times[key]:9.1f} us")
    print(f"{name} ({args.isa}, one thread, CPU {args.cpu}, medians of {len(rounds)} rounds):")
    for op, us in sorted(by_op.items(), key=lambda kv: -kv[1]):
        print(f"  {op:10s} kernels alone {us / 1e3:8.3f} ms")
    print(f"  sum of the kernels alone  {total / 1e3:.3f} ms")
    ratio = f"network / sum {net / (total / 1e3):.3f}" if not missing and total > 0 else \
        "no ratio: layers missing from the sum"
    print(f"  network end to end        {net:.3f} ms  ({ratio})")
    if missing:
        print(f"  missing from bench_kernels ({len(missing)}): " + "; ".join(missing))
    if untimed:
        print(f"  not timed ({len(untimed)}): " + ", ".join(untimed))
    print(f"kernel-sum model={name} isa={args.isa} sum_ms={total / 1e3:.4f} "
          f"network_ms={net:.4f} missing={len(missing)} untimed={len(untimed)}")


if __name__ == "__main__":
    main()
