#!/usr/bin/python3
"""kernel_sum.py - a network's layers timed one by one as kernels alone, summed, against the
network run end to end: how much the runtime (fusion, buffers, scheduling) loses or gains over
its own kernels, and how far the kernels themselves are from the machine.

    /usr/bin/python3 tools/kernel_sum.py [MODEL | --arch v1|v2|v3-large|v3-small [--alpha A]
        [--res R]] [--isa auto|scalar|avx2|avx512|neon] [--cpu 1] [--runs 200] [--rounds 3]
        [--min-time 0.05] [--layers] [--mnet build/mnet] [--bench build/bench/bench_kernels]

`mnet info` lists the layers; bench_kernels times each layer's shape with its kernel alone, its
data hot in the caches as a benchmark loop leaves it (each for --min-time seconds); `mnet bench`
times the network (median of --runs).  The two alternate for --rounds rounds, and each figure is
the median of its rounds, so that a slow minute of the shared machine does not fall on one side
only.  Both pinned to --cpu (-1: not pinned), one thread.  --isa (default auto: the tier `mnet
isa` selects) must be one `mnet isa` lists as available.  --mnet and --bench default to the
build/ folder next to this script's tools/ folder.
bench_kernels is given the model (`--mnet_model=ARCH:ALPHA:RES`, or the file), so that it registers
the shape of each of its layers.  With --no-model-shapes it is not, and registers only its
built-in shapes (MobileNet V1, V2 and V3 at alpha 1.0 and 224x224); a layer without a benchmark is
listed as missing and left out of the sum, which is then labelled as a sum over N of M layers
(and the last line's layers_timed= is less than its layers=).  Ops without a
kernel benchmark of their own (squeeze-and-excite) are listed as not timed and left out too.
Global average pooling is fused into the fc layer in V1, V2 and V3 (the fc row's input is the
last feature map): it is no layer of its own, so it is neither listed nor timed separately (the
fc row's kernel is its GEMM alone).  A numbered row of `mnet info` that cannot be read is
reported (and counts among the layers not in the sum).
"""
import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LAYER = re.compile(r"^\s*(\d+)\s+(\w+)\s+(\d+)x(\d+)x(\d+)\s+(\d+)x(\d+)x(\d+)\s+(\d+)\s+(\w+)\s")
NUMBERED = re.compile(r"^\s*\d+\s")


def run(cmd):
    """The stdout of cmd; when it cannot start or exits non-zero, a message with its stderr and
    exit status 1."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        sys.exit(f"kernel_sum: cannot run {cmd[0]}: {e}")
    if p.returncode != 0:
        err = p.stderr.rstrip() or "(nothing on its stderr)"
        sys.exit(f"kernel_sum: {shlex.join(cmd)} failed (exit status {p.returncode}):\n{err}")
    return p.stdout


def layers(args, mnet_args):
    """(rows, unparsed): each layer of `mnet info` as (i, op, ih, iw, ic, oh, ow, oc, s, act),
    and the numbered rows that could not be read."""
    out = run([args.mnet, "info"] + mnet_args)
    rows, unparsed = [], []
    for line in out.splitlines():
        m = LAYER.match(line)
        if m:
            i, op = int(m.group(1)), m.group(2)
            ih, iw, ic, oh, ow, oc, s = (int(g) for g in m.groups()[2:9])
            rows.append((i, op, ih, iw, ic, oh, ow, oc, s, m.group(10)))
        elif NUMBERED.match(line):
            unparsed.append(line.strip())
            print(f"kernel_sum: cannot read this layer row of `mnet info`, left out of the sum: "
                  f"{line.strip()}", file=sys.stderr)
    if not rows:
        sys.exit("kernel_sum: no layers in `mnet info` output")
    return rows, unparsed


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


def kernel_times(args, spec, kernels):
    """{(family, shape): microseconds} for the chosen ISA's kernels on the shapes of model `spec`
    (bench_kernels' --mnet_model; None: its built-in shapes), one run of each; only the
    kernels named in `kernels` (the tier's as `mnet isa` lists them) where it is not empty."""
    spec = [] if spec is None else [f"--mnet_model={spec}"]
    cmd = pinned(args.cpu, [args.bench, f"--benchmark_filter=^(gemm|conv3x3|dwconv3x3|dwconv5x5)/"
                            f".*__{args.isa}/", "--benchmark_format=json",
                            f"--benchmark_min_time={args.min_time}"] + spec)
    try:
        doc = json.loads(run(cmd))
    except ValueError as e:
        sys.exit(f"kernel_sum: {shlex.join(cmd)} printed no JSON report ({e})")
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
    times = {}
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred") or b.get("run_type") == "aggregate":
            continue
        parts = b.get("run_name", b["name"]).split("/")
        if len(parts) < 4 or (kernels and parts[1] not in kernels):
            continue
        times[(parts[0], parts[3])] = b["real_time"] * scale[b["time_unit"]]
    if not times:
        sys.exit(f"kernel_sum: bench_kernels timed no {args.isa} kernel (does this CPU run it?)")
    return times


def network_ms(args, mnet_args):
    cmd = pinned(args.cpu, [args.mnet, "bench"] + mnet_args +
                 ["--isa", args.isa, "--runs", str(args.runs)])
    out = run(cmd)
    m = re.search(r"median_ms=([0-9.]+)", out)
    if not m:
        sys.exit("kernel_sum: no median_ms in `mnet bench` output")
    return float(m.group(1))


def choose_isa(ap, args):
    """--isa, lower-cased, auto resolved to the tier `mnet isa` selects; ap.error unless `mnet
    isa` lists it as available."""
    out = run([args.mnet, "isa"])
    m = re.search(r"selected isa: (\w+)", out)
    if not m:
        sys.exit("kernel_sum: no selected isa in `mnet isa` output")
    tiers = dict(re.findall(r"^(\w+)\s+(available|not available)\s*$", out, re.M))
    available = [t for t, state in tiers.items() if state == "available"]
    isa = m.group(1) if args.isa in (None, "auto") else args.isa
    if isa not in tiers:
        ap.error(f"--isa {args.isa}: not an ISA mnet knows (auto, {', '.join(tiers)})")
    if isa not in available:
        ap.error(f"--isa {args.isa}: not available on this CPU and build "
                 f"(available: {', '.join(available)})")
    # The kernels the tier runs on this CPU: a tier may register two of a family and pick one
    # by microarchitecture (kernels/ukernels.inc, MNET_GEMM_WHERE); bench_kernels times both.
    block = re.search(rf"^{isa}\s+available\s*\n((?:[ \t]+\S+\s+\S+\n?)+)", out, re.M)
    kernels = set(re.findall(r"^\s+\S+\s+(\S+)", block.group(1), re.M)) if block else set()
    return isa, kernels


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", help="a .mnet file (else --arch)")
    ap.add_argument("--arch", help="without MODEL: v1 (default), v2, v3-large or v3-small")
    ap.add_argument("--alpha", help="with --arch: width multiplier")
    ap.add_argument("--res", help="with --arch: input resolution")
    ap.add_argument("--isa", type=str.lower, default=None,
                    help="auto (the default: the tier mnet selects), scalar, avx2, avx512, neon")
    ap.add_argument("--cpu", type=int, default=1, help="the CPU to pin to, -1: not pinned")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", default="0.05")
    ap.add_argument("--layers", action="store_true", help="also each layer's kernel time")
    ap.add_argument("--no-model-shapes", action="store_true",
                    help="do not pass the model to bench_kernels (--mnet_model): only its "
                         "built-in shapes (MobileNet V1/V2/V3 1.0 224)")
    ap.add_argument("--mnet", default=os.path.normpath(os.path.join(HERE, "..", "build", "mnet")))
    ap.add_argument("--bench", default=os.path.normpath(
        os.path.join(HERE, "..", "build", "bench", "bench_kernels")))
    args = ap.parse_args()
    if args.model is not None:
        given = [f"--{opt}" for opt in ("arch", "alpha", "res") if getattr(args, opt) is not None]
        if given:
            ap.error(f"{', '.join(given)}: only without MODEL (a model file sets its own)")
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    cpus = sorted(os.sched_getaffinity(0))
    if args.cpu != -1 and args.cpu not in cpus:
        ap.error(f"--cpu {args.cpu}: not a CPU this process may run on "
                 f"({', '.join(map(str, cpus))}, or -1: not pinned)")
    args.isa, kernels = choose_isa(ap, args)
    arch = args.arch if args.arch is not None else "v1"
    mnet_args = [args.model] if args.model is not None else ["--arch", arch]
    name = args.model if args.model is not None else arch
    for opt in ("alpha", "res"):
        if getattr(args, opt) is not None:
            mnet_args += [f"--{opt}", getattr(args, opt)]
            name += f"-{getattr(args, opt)}"

    if args.no_model_shapes:
        spec = None
    elif args.model is not None:
        spec = os.path.abspath(args.model)
    else:
        spec = ":".join([arch, args.alpha or "1", args.res or "224"])
    rows, unparsed = layers(args, mnet_args)
    rounds = [(kernel_times(args, spec, kernels), network_ms(args, mnet_args)) for _ in range(args.rounds)]
    times = {k: statistics.median(r[0].get(k, float("nan")) for r in rounds)
             for k in rounds[0][0]}
    net = statistics.median(r[1] for r in rounds)
    total, by_op, missing, untimed, per_layer = 0.0, {}, [], [], []
    for i, op, *dims in rows:
        key = key_of(op, *dims)
        if key is None:
            untimed.append(f"{i} {op}")
        elif key not in times:
            missing.append(f"{i} {op} {key[1]}")
        else:
            total += times[key]
            by_op[op] = by_op.get(op, 0.0) + times[key]
            per_layer.append(f"  layer {i:3d} {op:10s} {key[1]:36s} {times[key]:9.1f} us")
    n_layers = len(rows) + len(unparsed)
    n_timed = n_layers - len(missing) - len(untimed) - len(unparsed)
    where = "not pinned" if args.cpu == -1 else f"CPU {args.cpu}"
    print(f"{name} ({args.isa}, one thread, {where}, medians of {len(rounds)} rounds):")
    if args.layers:
        print("\n".join(per_layer))
    for op, us in sorted(by_op.items(), key=lambda kv: -kv[1]):
        print(f"  {op:10s} kernels alone {us / 1e3:8.3f} ms")
    if n_timed == n_layers:
        print(f"  sum of the kernels alone  {total / 1e3:.3f} ms")
    else:
        print(f"  sum over {n_timed} of {n_layers} layers (partial), kernels alone  "
              f"{total / 1e3:.3f} ms")
    ratio = f"network / sum {net / (total / 1e3):.3f}" if not missing and not unparsed and \
        total > 0 else "no ratio: layers missing from the sum"
    print(f"  network end to end        {net:.3f} ms  ({ratio})")
    if missing:
        print(f"  missing from bench_kernels ({len(missing)}): " + "; ".join(missing))
    if untimed:
        print(f"  not timed ({len(untimed)}): " + ", ".join(untimed))
    if unparsed:
        print(f"  not read from `mnet info` ({len(unparsed)}): " + "; ".join(unparsed))
    print(f"kernel-sum model={name} isa={args.isa} sum_ms={total / 1e3:.4f} "
          f"network_ms={net:.4f} missing={len(missing)} untimed={len(untimed)} "
          f"unread={len(unparsed)} layers_timed={n_timed} layers={n_layers}")


if __name__ == "__main__":
    main()
