#!/usr/bin/python3
"""compare_ort.py - mnet against ONNX Runtime on the same MobileNets, interleaved, same weights.

    /usr/bin/python3 tools/compare_ort.py [--models v1-1.0-224,v2-1.0-224,v3-large-1.0-224,...]
        [--threads 1,2] [--runs 50] [--rounds 3] [--batch 1] [--mnet build/mnet]
        [--peers ../shared/peers] [--work /tmp/mnet-vs-ort] [--pin-cpu N] [--layers]

A model is ARCH-ALPHA-RESOLUTION, ARCH one of v1, v2, v3-large, v3-small (mnet_convert's --arch).
Models come from ../shared/peers/models.py (its V1 definition and torchvision's V2 and V3, seeded
random weights with non-trivial BatchNorm), exported to ONNX at the requested resolution for ONNX
Runtime and converted from the same state_dict for mnet.  Each round times every (model,
threads) pair with both runtimes back to back, alternating which goes first; the table shows the
median over rounds of each runtime's median latency and the ratio mnet / ONNX Runtime, each
runtime's first inference in a new process (after its session or context is made) over its
median, and the max |logit difference| between the two on the same input.  Needs onnxruntime-node (NODE_PATH,
see ../shared/peers/README.md).

One-thread runs of both runtimes are pinned to the same CPU (taskset; --pin-cpu, by default the
last one, -1 for none): the vCPUs of a shared VM need not be equally fast (on the development
machine one ran the same binary 20% slower than the other), and an unpinned process lands on
either, which made one-thread rounds bimodal.  Two-thread runs use every CPU.

--layers: instead of latencies, where each runtime spends its time.  Each round runs `mnet bench
--profile` (mnet's layers as it runs them, a fused group on one line; MNET_FUSE=0 in the
environment runs every layer on its own) and tools/ort_layers.js (ONNX Runtime's profiler) back
to back; each prints the mean time of every layer or node over --runs runs.  ONNX Runtime's
Conv and Gemm nodes are matched in order with mnet's layers (every MobileNet layer but the
pooling before the classifier is one of each), and each mnet line is shown beside the sum of its
layers' nodes; ONNX Runtime's other nodes (layout reorders, pooling, activations and
squeeze-excite products it does not fuse) are one line of their own.  Medians over rounds; a
summary by kind of layer follows each model's table.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_line(out, prefix):
    for line in out.splitlines():
        if line.startswith(prefix):
            return dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
    raise RuntimeError(f"no '{prefix}' line in:\n{out}")


def peer_model(models, arch, alpha):
    """The name of the peers' model for (arch, alpha), registered with their recipe if it is
    not one of theirs."""
    import torchvision
    ctor = {"v1": models.MobileNetV1, "v2": torchvision.models.mobilenet_v2,
            "v3-large": torchvision.models.mobilenet_v3_large,
            "v3-small": torchvision.models.mobilenet_v3_small}[arch]
    if arch.startswith("v3"):   # the peers' V3 are the 1.0 ones, named without the width
        name = "mobilenet_" + arch.replace("-", "_") + ("" if alpha == 1.0 else f"_{alpha}")
    else:   # the peers' names have one decimal (mobilenet_v1_0.5); 0.75 stays 0.75
        name = f"mobilenet_{arch}_{alpha:.1f}" if round(alpha, 1) == alpha else f"mobilenet_{arch}_{alpha:g}"
    if name not in models.MODELS:
        models.MODELS[name] = lambda: ctor(alpha) if arch == "v1" else ctor(width_mult=alpha)
    return name


ARCHES = ("v1", "v2", "v3-large", "v3-small")


def parse_spec(spec):
    """'v2-0.5-160' -> ('v2', 0.5, 160), or ValueError saying what is wrong."""
    parts = spec.rsplit("-", 2)
    if len(parts) != 3 or parts[0] not in ARCHES:
        raise ValueError(f"model '{spec}': expected ARCH-ALPHA-RESOLUTION with ARCH one of "
                         f"{', '.join(ARCHES)} (e.g. v2-1.0-224)")
    try:
        alpha, res = float(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"model '{spec}': ALPHA must be a number and RESOLUTION an integer")
    if not 0.0 < alpha <= 4.0 or not 32 <= res <= 1024:
        raise ValueError(f"model '{spec}': ALPHA must be in (0, 4] and RESOLUTION in [32, 1024]")
    return parts[0], alpha, res


def prepare(spec, args):
    """spec 'v2-0.5-160' -> (onnx path, mnet path, input NCHW f32 path, input NHWC path).  The
    files are kept in args.work and reused; the ONNX graph and the inputs have the batch size
    in their shape, so a batch other than 1 has its own files."""
    arch, alpha, res = parse_spec(spec)
    base = os.path.join(args.work, spec if args.batch == 1 else f"{spec}-b{args.batch}")
    onnx_path, mnet_path = base + ".onnx", base + ".mnet"
    nchw, nhwc = base + ".in.f32", base + ".in.nhwc.f32"
    if all(os.path.exists(p) for p in (onnx_path, mnet_path, nchw, nhwc)):
        return onnx_path, mnet_path, nchw, nhwc
    sys.path.insert(0, args.peers)
    import torch
    import models  # ../shared/peers/models.py
    m = models.build(peer_model(models, arch, alpha))
    x = torch.randn((args.batch, 3, res, res), generator=torch.Generator().manual_seed(7))
    pt = base + ".pt"
    torch.save(m.state_dict(), pt)
    torch.onnx.export(m, x, onnx_path, opset_version=13, input_names=["input"],
                      output_names=["logits"], training=torch.onnx.TrainingMode.EVAL)
    subprocess.run([sys.executable, os.path.join(HERE, "mnet_convert.py"), pt, mnet_path,
                    "--arch", arch, "--resolution", str(res)], check=True, stdout=subprocess.DEVNULL)
    x.numpy().astype("<f4").tofile(nchw)
    x.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(nhwc)
    return onnx_path, mnet_path, nchw, nhwc


def pinned(threads, args):
    """The command prefix that pins a one-thread run to args.pin_cpu, if any."""
    return ["taskset", "-c", str(args.pin_cpu)] if threads == 1 and args.pin_cpu >= 0 else []


def run(cmd):
    """Run a command; on failure, stop with the command and what it printed."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"compare_ort: {' '.join(cmd)} exited with {p.returncode}:\n{p.stderr.strip()}")
    return p.stdout


def run_ort(onnx_path, nchw, res, threads, args, dump=None):
    cmd = pinned(threads, args) + ["node", os.path.join(args.peers, "ort_bench.js"), onnx_path, "--threads", str(threads),
           "--runs", str(args.runs), "--input", nchw, "--shape", f"{args.batch},3,{res},{res}"]
    if dump:
        cmd += ["--dump", dump]
    return parse_line(run(cmd), "ort ")


def run_mnet(mnet_path, threads, args):
    cmd = pinned(threads, args) + [args.mnet, "bench", mnet_path, "--threads", str(threads), "--runs", str(args.runs),
           "--batch", str(args.batch)]
    return parse_line(run(cmd), "mnet-bench ")


MNET_PROFILE_LINE = re.compile(r"^\s+(\d+)(?:-(\d+))?\s+(\S+)\s+(\d+x\d+x\d+)\s+([\d.]+)\s+([\d.]+)\s")
INFO_LINE = re.compile(r"^\s*(\d+)\s+(\S+)\s+(\d+)x(\d+)x(\d+)\s+(\d+)x(\d+)x(\d+)\s.*\s(\d+)\s*$")


def parse_mnet_info(out):
    """`mnet info` -> [{'op', 'out_h', 'out_w', 'out_c', 'macs'}] in layer order."""
    layers = []
    for line in out.splitlines():
        m = INFO_LINE.match(line)
        if m:
            if int(m.group(1)) != len(layers):
                raise ValueError(f"mnet info: layer {m.group(1)} out of order")
            layers.append({"op": m.group(2), "out_h": int(m.group(6)), "out_w": int(m.group(7)),
                           "out_c": int(m.group(8)), "macs": int(m.group(9))})
    if not layers:
        raise ValueError("mnet info printed no layers")
    return layers


def parse_mnet_profile(out):
    """`mnet bench --profile` -> [(first layer, last layer, op, output, mean ms)], one per line."""
    rows = []
    for line in out.split("profile", 1)[-1].splitlines():
        m = MNET_PROFILE_LINE.match(line)
        if m:
            a = int(m.group(1))
            rows.append((a, int(m.group(2)) if m.group(2) else a, m.group(3), m.group(4),
                         float(m.group(6))))
    if not rows:
        raise ValueError("mnet bench --profile printed no layers")
    return rows


def ort_matchable(node):
    """Whether an ONNX Runtime node is one of the kinds mnet has a layer for (Conv, Gemm)."""
    return node["op"] in ("Conv", "FusedConv", "NchwcConv", "Gemm", "FusedGemm", "MatMul")


def match_layers(info, nodes):
    """ONNX Runtime's Conv/Gemm nodes matched in order with mnet's layers: a list with, for every
    mnet layer, the index of its node.  Each pair must agree on the kind (a fully connected layer
    against Gemm/MatMul, any other against Conv; a squeeze-excite conv has a 1x1 output there,
    any other conv the layer's output height and width; a 5x5 depthwise a 5x5 kernel).  None when
    the two graphs do not pair up (a model exported differently)."""
    idx = [i for i, n in enumerate(nodes) if ort_matchable(n)]
    if len(idx) != len(info):
        return None
    for layer, i in zip(info, idx):
        n = nodes[i]
        out = n["outputs"][0] if n["outputs"] else []
        if layer["op"] == "fc":
            ok = n["op"] in ("Gemm", "FusedGemm", "MatMul")
        else:
            ok = n["op"] in ("Conv", "FusedConv", "NchwcConv") and len(out) == 4
            if ok and layer["op"].startswith("se_"):
                ok = out[2:] == [1, 1]
            elif ok:
                ok = out[2:] == [layer["out_h"], layer["out_w"]]
            if ok and len(n["inputs"]) > 1 and len(n["inputs"][1]) == 4:
                k = {"conv1x1": 1, "se_reduce": 1, "se_expand": 1, "dwconv5x5": 5}.get(layer["op"], 3)
                ok = n["inputs"][1][2:] == [k, k]
        if not ok:
            return None
    return idx


KIND = {"conv3x3": "3x3 convolution (stem)", "dwconv3x3": "depthwise", "dwconv5x5": "depthwise",
        "conv1x1": "1x1 convolution (GEMM)", "se_reduce": "the rest", "se_expand": "the rest",
        "fc": "the rest"}
KINDS = ["3x3 convolution (stem)", "depthwise", "1x1 convolution (GEMM)", "fused groups", "the rest"]


def node_means(nodes, batch):
    """Each node's mean time per image, in us: ort_layers.js times runs of the whole batch,
    mnet's profile is per image."""
    return [statistics.fmean(n["us"]) / batch for n in nodes]


def layer_rows(info, idx, nodes_us, profile):
    """One round: [(label, op, output, MACs, mnet us, ORT us)] for every line of mnet's profile
    (ONNX Runtime's time the sum of the nodes matched with its layers), then ONNX Runtime's
    unmatched nodes as one line.  nodes_us: each node's mean time in this round."""
    rows = []
    for a, b, op, shape, ms in profile:
        if b >= len(info):
            raise ValueError(f"mnet's profile has layer {b}, its model {len(info)} layers")
        rows.append((str(a) if a == b else f"{a}-{b}", op, shape,
                     sum(info[i]["macs"] for i in range(a, b + 1)), ms * 1000.0,
                     sum(nodes_us[idx[i]] for i in range(a, b + 1))))
    matched = set(idx)
    rest = sum(us for i, us in enumerate(nodes_us) if i not in matched)
    rows.append(("", "ONNX Runtime's other nodes", "", 0, 0.0, rest))
    return rows


def kind_of(op):
    return KIND.get(op, "fused groups" if "+" in op else "the rest")


def median_rows(rounds):
    """The rounds' rows (same lines in each) -> one set, each time the median over rounds."""
    out = []
    for lines in zip(*rounds):
        label, op, shape, macs = lines[0][:4]
        out.append((label, op, shape, macs, statistics.median(r[4] for r in lines),
                    statistics.median(r[5] for r in lines)))
    return out


def by_kind(rows):
    """Rows -> {kind: [MACs, mnet us, ORT us]} over KINDS, and the totals."""
    acc = {k: [0, 0.0, 0.0] for k in KINDS}
    for label, op, shape, macs, m_us, o_us in rows:
        k = kind_of(op) if label else "the rest"
        acc[k][0] += macs
        acc[k][1] += m_us
        acc[k][2] += o_us
    total = [sum(v[i] for v in acc.values()) for i in range(3)]
    return acc, total


def print_layers(spec, t, batch, rows, runs, rounds):
    print(f"\n{spec}, {t} thread{'s' if t > 1 else ''}, batch {batch}: per image, mean "
          f"of {runs} runs per round, median of {rounds} rounds "
          f"({'MNET_FUSE=' + os.environ['MNET_FUSE'] if 'MNET_FUSE' in os.environ else 'fused as mnet runs it'})\n")
    print("| layers | op | output | MMAC | mnet us | ONNX Runtime us | mnet / ORT |")
    print("|---|---|---|---|---|---|---|")
    for label, op, shape, macs, m_us, o_us in rows:
        ratio = f"{m_us / o_us:.2f}" if label and o_us > 0 else ""
        print(f"| {label} | {op} | {shape} | {macs / 1e6:.2f} | {m_us:.1f} | {o_us:.1f} | {ratio} |")
    acc, total = by_kind(rows)
    print("\n| part | MMAC | mnet ms | ONNX Runtime ms | mnet / ORT | mnet GFLOP/s | ORT GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for k, (macs, m_us, o_us) in list(acc.items()) + [("total", total)]:
        if m_us == 0 and o_us == 0:
            continue
        gf = lambda us: f"{2 * macs / us / 1e3:.1f}" if us > 0 and macs else ""
        ratio = f"{m_us / o_us:.2f}" if o_us > 0 else ""
        print(f"| {k} | {macs / 1e6:.1f} | {m_us / 1e3:.3f} | {o_us / 1e3:.3f} | {ratio} | "
              f"{gf(m_us)} | {gf(o_us)} |")


def layers_main(args, specs, threads):
    """--layers: per layer, mnet's profile against ONNX Runtime's, interleaved rounds."""
    for spec in specs:
        res = parse_spec(spec)[2]
        onnx_path, mnet_path, nchw, nhwc = prepare(spec, args)
        info = parse_mnet_info(run([args.mnet, "info", mnet_path]))
        for t in threads:
            mnet_cmd = pinned(t, args) + [args.mnet, "bench", mnet_path, "--threads", str(t),
                                          "--runs", str(args.runs), "--batch", str(args.batch),
                                          "--profile"]
            ort_cmd = pinned(t, args) + ["node", os.path.join(HERE, "ort_layers.js"), onnx_path,
                                         nchw, f"{args.batch},3,{res},{res}", str(t),
                                         str(args.runs), "10"]
            rounds, whole = [], []
            for r in range(args.rounds):   # alternating which runtime goes first
                if r % 2 == 0:
                    prof = json.loads(run(ort_cmd))
                    out = run(mnet_cmd)
                else:
                    out = run(mnet_cmd)
                    prof = json.loads(run(ort_cmd))
                profile = parse_mnet_profile(out)
                m_run = float(parse_line(out, "mnet-bench ")["median_ms"])
                nodes = prof["nodes"]
                idx = match_layers(info, nodes)
                if idx is None:
                    sys.exit(f"compare_ort: {spec}: ONNX Runtime's {sum(map(ort_matchable, nodes))} "
                             f"Conv/Gemm nodes do not pair with mnet's {len(info)} layers")
                rounds.append(layer_rows(info, idx, node_means(nodes, args.batch), profile))
                whole.append((m_run, statistics.median(prof["run_us"]) / 1e3))
            print_layers(spec, t, args.batch, median_rows(rounds), args.runs, args.rounds)
            print(f"\nWhole runs (of the batch) while profiled, medians of the rounds' medians: mnet "
                  f"{statistics.median(w[0] for w in whole):.3f} ms, ONNX Runtime "
                  f"{statistics.median(w[1] for w in whole):.3f} ms (its profiler adds to every "
                  "node; the latencies to quote come from the default mode)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="v1-1.0-224,v2-1.0-224,v1-0.5-224,v2-0.5-224,v1-1.0-160,"
                    "v2-1.0-160,v3-large-1.0-224,v3-small-1.0-224")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--mnet", default=os.path.join(HERE, "..", "build", "mnet"))
    ap.add_argument("--peers", default=os.path.join(HERE, "..", "..", "shared", "peers"))
    ap.add_argument("--work", default="/tmp/mnet-vs-ort")
    ap.add_argument("--pin-cpu", type=int, default=None,
                    help="CPU for one-thread runs (default: the last one; -1: no pinning)")
    ap.add_argument("--layers", action="store_true",
                    help="per layer: mnet's --profile against ONNX Runtime's profiler")
    args = ap.parse_args()
    if args.pin_cpu is None:
        cpus = sorted(os.sched_getaffinity(0))
        args.pin_cpu = cpus[-1] if len(cpus) > 1 and shutil.which("taskset") else -1
    if args.pin_cpu >= 0:
        print(f"one-thread runs pinned to CPU {args.pin_cpu}", flush=True)
    args.peers = os.path.abspath(args.peers)
    os.makedirs(args.work, exist_ok=True)
    try:
        threads = [int(t) for t in args.threads.split(",")]
        specs = [s.strip() for s in args.models.split(",") if s.strip()]
        for spec in specs:
            parse_spec(spec)
    except ValueError as e:
        ap.error(str(e))
    if not specs or min(threads) < 1 or args.batch < 1 or args.runs < 1 or args.rounds < 1:
        ap.error("--models must name a model; --threads, --batch, --runs and --rounds must be >= 1")
    if not os.access(args.mnet, os.X_OK):
        ap.error(f"--mnet {args.mnet}: not an executable (build first: ninja -C build)")
    if args.layers:
        return layers_main(args, specs, threads)
    rows = []
    for spec in specs:
        res = parse_spec(spec)[2]
        onnx_path, mnet_path, nchw, nhwc = prepare(spec, args)
        # numerics: the same input through both
        ort_out = onnx_path[:-len(".onnx")] + ".ort.f32"
        mnet_out = onnx_path[:-len(".onnx")] + ".mnet.f32"
        run_ort(onnx_path, nchw, res, 1, argparse.Namespace(**{**vars(args), "runs": 1}), dump=ort_out)
        run([args.mnet, "run", mnet_path, "--input", nhwc, "--output", mnet_out,
             "--batch", str(args.batch)])
        diff = float(np.abs(np.fromfile(ort_out, "<f4") - np.fromfile(mnet_out, "<f4")).max())
        for t in threads:
            o, m = [], []   # each round's parsed line
            for r in range(args.rounds):
                first_ort = r % 2 == 0
                if first_ort:
                    o.append(run_ort(onnx_path, nchw, res, t, args))
                m.append(run_mnet(mnet_path, t, args))
                if not first_ort:
                    o.append(run_ort(onnx_path, nchw, res, t, args))
            row = summarize(m, o)
            rows.append((spec, t, row, diff))
            print(f"{spec:12s} threads {t}: mnet {row['mnet_ms']:7.3f} ms  ort {row['ort_ms']:7.3f} ms  "
                  f"ratio {row['ratio']:.2f}  first/median mnet {row['mnet_first']:.2f} "
                  f"ort {row['ort_first']:.2f}  (rounds mnet "
                  f"{['%.2f' % float(x['median_ms']) for x in m]} ort "
                  f"{['%.2f' % float(x['median_ms']) for x in o]})", flush=True)
    print()
    print(f"| model (batch {args.batch}) | threads | mnet median ms | ONNX Runtime median ms | "
          "mnet / ORT | same, median of rounds | first / median, mnet | first / median, ORT | "
          "max abs logit diff |")
    print("|---|---|---|---|---|---|---|---|---|")
    for spec, t, row, diff in rows:
        print(f"| {spec} | {t} | {row['mnet_ms']:.2f} | {row['ort_ms']:.2f} | {row['ratio']:.2f} | "
              f"{row['paired']:.2f} | {row['mnet_first']:.2f} | {row['ort_first']:.2f} | {diff:.1e} |")


def summarize(m, o):
    """One table row from the rounds' parsed lines of mnet (m) and ONNX Runtime (o): each
    runtime's median over rounds of its median latency, their ratio, the median of the rounds'
    own ratios, and each runtime's first inference (after its session or context was made, in a
    new process) over its median latency, as medians over rounds."""
    med = [float(x["median_ms"]) for x in m]
    oed = [float(x["median_ms"]) for x in o]
    mm, mo = statistics.median(med), statistics.median(oed)
    return {"mnet_ms": mm, "ort_ms": mo, "ratio": mm / mo,
            "paired": statistics.median(a / b for a, b in zip(med, oed)),
            "mnet_first": statistics.median(float(x["first_ms"]) / float(x["median_ms"]) for x in m),
            "ort_first": statistics.median(float(x["first_ms"]) / float(x["median_ms"]) for x in o)}


if __name__ == "__main__":
    main()
