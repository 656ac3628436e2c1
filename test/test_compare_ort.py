#!/usr/bin/python3
"""test_compare_ort.py - the parts of tools/compare_ort.py that need neither ONNX Runtime nor
../shared/peers: model names, the peers' model registry, the per-batch work files, the error
paths of the command line.  (Its measurements need onnxruntime-node and the peers' scripts, which
a clean checkout does not have; the README's table records a real run.)

    test_compare_ort.py TOOLS_DIR MNET_EXE

Prints "N passed, N failed".
"""
import argparse
import os
import subprocess
import sys
import tempfile
import types

from scripttest import run

TOOLS, MNET = sys.argv[1], sys.argv[2]
sys.path.insert(0, TOOLS)
import compare_ort  # noqa: E402

TOOL = os.path.join(TOOLS, "compare_ort.py")
TMP = tempfile.mkdtemp(prefix="mnet-compare-ort-")   # removed by scripttest.run when all pass


def t_parse_spec_accepts_every_arch():
    assert compare_ort.parse_spec("v1-1.0-224") == ("v1", 1.0, 224)
    assert compare_ort.parse_spec("v2-0.35-96") == ("v2", 0.35, 96)
    assert compare_ort.parse_spec("v3-large-0.75-160") == ("v3-large", 0.75, 160)
    assert compare_ort.parse_spec("v3-small-1.0-97") == ("v3-small", 1.0, 97)


def t_parse_spec_rejects_with_reason():
    bad = {"v4-1.0-224": "ARCH one of", "v2-1.0": "ARCH-ALPHA-RESOLUTION", "v2": "ARCH-ALPHA",
           "v2-x-224": "must be a number", "v2-1.0-22.5": "integer", "v2-0-224": "(0, 4]",
           "v2-1.0-8": "[32, 1024]", "v3-1.0-224": "ARCH one of", "": "ARCH-ALPHA"}
    for spec, why in bad.items():
        try:
            compare_ort.parse_spec(spec)
        except ValueError as e:
            assert why in str(e) and repr(spec)[1:-1] in str(e), (spec, str(e))
        else:
            raise AssertionError(f"{spec!r} accepted")


def t_peer_model_names_keep_the_width():
    made = []
    fake = types.SimpleNamespace(MODELS={"mobilenet_v2_1.0": None, "mobilenet_v1_0.5": None},
                                 MobileNetV1=lambda a: made.append(("v1", a)))
    sys.modules.setdefault("torchvision", types.SimpleNamespace(models=types.SimpleNamespace(
        mobilenet_v2=lambda width_mult: made.append(("v2", width_mult)),
        mobilenet_v3_large=lambda width_mult: made.append(("v3l", width_mult)),
        mobilenet_v3_small=lambda width_mult: made.append(("v3s", width_mult)))))
    assert compare_ort.peer_model(fake, "v2", 1.0) == "mobilenet_v2_1.0"
    assert compare_ort.peer_model(fake, "v1", 0.5) == "mobilenet_v1_0.5"
    # 0.75 and 0.8 are different models (0.75 was once rounded to 0.8's name)
    n75, n8 = compare_ort.peer_model(fake, "v1", 0.75), compare_ort.peer_model(fake, "v1", 0.8)
    assert n75 != n8 and n75.endswith("0.75") and n8.endswith("0.8"), (n75, n8)
    fake.MODELS[n75]()
    assert made[-1] == ("v1", 0.75), made
    assert compare_ort.peer_model(fake, "v3-large", 1.0) == "mobilenet_v3_large"
    assert compare_ort.peer_model(fake, "v3-small", 0.75) == "mobilenet_v3_small_0.75"


def t_batch_sizes_have_their_own_files():
    work = tempfile.mkdtemp(prefix="batch-", dir=TMP)
    paths = {}
    for batch in (1, 8):
        base = os.path.join(work, "v2-0.5-128" + ("" if batch == 1 else f"-b{batch}"))
        for ext in (".onnx", ".mnet", ".in.f32", ".in.nhwc.f32"):   # as if prepared already
            open(base + ext, "w").close()
        args = argparse.Namespace(work=work, batch=batch)
        paths[batch] = compare_ort.prepare("v2-0.5-128", args)
    assert not set(paths[1]) & set(paths[8]), paths
    assert all("-b8." in p for p in paths[8]), paths


def t_failed_command_stops_with_its_output():
    try:
        compare_ort.run([sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"])
    except SystemExit as e:
        assert "exited with 3" in str(e.code) and "boom" in str(e.code), e.code
    else:
        raise AssertionError("no exit")
    assert compare_ort.run([sys.executable, "-c", "print('fine')"]).strip() == "fine"


def t_summarize_takes_medians_over_rounds():
    # three rounds; the medians come from different rounds than the extremes
    m = [{"median_ms": "2.0", "first_ms": "6.0"}, {"median_ms": "4.0", "first_ms": "4.0"},
         {"median_ms": "3.0", "first_ms": "4.5"}]
    o = [{"median_ms": "4.0", "first_ms": "40.0"}, {"median_ms": "5.0", "first_ms": "10.0"},
         {"median_ms": "8.0", "first_ms": "16.0"}]
    row = compare_ort.summarize(m, o)
    assert row["mnet_ms"] == 3.0 and row["ort_ms"] == 5.0, row
    assert abs(row["ratio"] - 0.6) < 1e-12, row
    assert abs(row["paired"] - 0.5) < 1e-12, row          # rounds: 0.5, 0.8, 0.375
    assert abs(row["mnet_first"] - 1.5) < 1e-12, row      # rounds: 3.0, 1.0, 1.5
    assert abs(row["ort_first"] - 2.0) < 1e-12, row       # rounds: 10.0, 2.0, 2.0


def mnet_text(*argv):
    p = subprocess.run([MNET, *argv], capture_output=True, text=True, env={**os.environ, **ENV})
    assert p.returncode == 0, (argv, p.stderr)
    return p.stdout


ENV = {"MNET_FUSE": "0"}   # one line per layer in --profile (fusion tested below separately)


def fake_nodes(info, n_other=1):
    """ONNX Runtime-like nodes for mnet_info's layers, as its profiler names them: a Conv per
    conv layer (1x1 output for squeeze-excite), a Gemm per fc, a Flatten before each Gemm."""
    nodes = []
    for layer in info:
        if layer["op"] == "fc":
            nodes.append({"op": "Flatten", "inputs": [], "outputs": [[1, 8]], "us": [1.0]})
            nodes.append({"op": "Gemm", "inputs": [[1, 8], [8]], "outputs": [[1, 8]], "us": [1.0]})
            continue
        k = {"conv1x1": 1, "se_reduce": 1, "se_expand": 1, "dwconv5x5": 5}.get(layer["op"], 3)
        hw = [1, 1] if layer["op"].startswith("se_") else [layer["out_h"], layer["out_w"]]
        nodes.append({"op": "Conv", "inputs": [[1, 8, 9, 9], [layer["out_c"], 1, k, k], [8]],
                      "outputs": [[1, layer["out_c"]] + hw], "us": [1.0]})
    return nodes


def t_layers_parse_mnet_info_and_profile():
    for arch in ("v1", "v3-small"):
        info = compare_ort.parse_mnet_info(mnet_text("info", "--arch", arch, "--alpha", "0.25",
                                                     "--res", "64"))
        total = int(mnet_text("info", "--arch", arch, "--alpha", "0.25", "--res", "64")
                    .rsplit("macs=", 1)[1].split()[0])
        assert sum(layer["macs"] for layer in info) == total, arch
        assert info[0]["op"] == "conv3x3" and info[-1]["op"] == "fc", info
        assert info[0]["out_h"] == 32 and info[0]["out_w"] == 32, info[0]
        prof = compare_ort.parse_mnet_profile(mnet_text(
            "bench", "--arch", arch, "--alpha", "0.25", "--res", "64", "--runs", "3", "--profile"))
        assert [r[0] for r in prof] == list(range(len(info))), prof   # MNET_FUSE=0: every layer
        assert [r[2] for r in prof] == [layer["op"] for layer in info], prof
        assert all(r[4] > 0 for r in prof), prof
    # fused groups: one line per group, their layers' ranges covering the model
    p = subprocess.run([MNET, "bench", "--arch", "v2", "--alpha", "0.5", "--res", "96", "--runs",
                        "2", "--profile"], capture_output=True, text=True)
    prof = compare_ort.parse_mnet_profile(p.stdout)
    assert any(a < b and "+" in op for a, b, op, _, _ in prof), prof
    assert [r[0] for r in prof] == [0] + [r[1] + 1 for r in prof[:-1]], prof
    for bad in ("", "model x\nlatency median 1 ms\n"):
        try:
            compare_ort.parse_mnet_profile(bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"{bad!r} parsed")


def t_layers_match_ort_nodes_in_order():
    info = compare_ort.parse_mnet_info(mnet_text("info", "--arch", "v3-small", "--alpha", "0.5",
                                                 "--res", "96"))
    nodes = fake_nodes(info)
    idx = compare_ort.match_layers(info, nodes)
    assert idx is not None and len(idx) == len(info), idx
    assert all(nodes[i]["op"] in ("Conv", "Gemm") for i in idx), idx
    assert nodes[idx[-1]]["op"] == "Gemm" and nodes[idx[-1] - 1]["op"] == "Flatten", idx
    # a node missing, an output of another size, a kernel of another size, a kind swapped
    assert compare_ort.match_layers(info, nodes[:-1]) is None
    wrong = [dict(n) for n in nodes]
    c = next(i for i, n in enumerate(wrong) if n["op"] == "Conv" and n["outputs"][0][2] > 1)
    wrong[c] = {**wrong[c], "outputs": [wrong[c]["outputs"][0][:2] + [99, 99]]}
    assert compare_ort.match_layers(info, wrong) is None
    five = next(i for i, layer in enumerate(info) if layer["op"] == "dwconv5x5")
    wrong = [dict(n) for n in nodes]
    wrong[idx[five]] = {**wrong[idx[five]], "inputs": [[1, 8, 9, 9], [8, 1, 3, 3], [8]]}
    assert compare_ort.match_layers(info, wrong) is None
    wrong = [dict(n) for n in nodes]
    wrong[idx[-1]] = {**wrong[idx[-1]], "op": "Conv"}
    assert compare_ort.match_layers(info, wrong) is None
    se = next(i for i, layer in enumerate(info) if layer["op"] == "se_reduce")
    wrong = [dict(n) for n in nodes]
    wrong[idx[se]] = {**wrong[idx[se]], "outputs": [[1, 8, 3, 3]]}
    assert compare_ort.match_layers(info, wrong) is None


def t_layers_rows_sum_each_group():
    info = [{"op": op, "out_h": 4, "out_w": 4, "out_c": 8, "macs": m} for op, m in
            (("conv3x3", 100), ("dwconv3x3", 10), ("conv1x1", 1000), ("dwconv3x3", 20),
             ("conv1x1", 2000), ("fc", 5))]
    idx = [0, 1, 2, 4, 5, 7]                    # nodes 3 and 6 are ORT's own (reorders, ...)
    us = [50.0, 7.0, 400.0, 3.0, 9.0, 900.0, 2.0, 30.0]
    profile = [(0, 2, "conv3x3+dwconv3x3+conv1x1", "4x4x8", 0.3), (3, 3, "dwconv3x3", "4x4x8", 0.008),
               (4, 4, "conv1x1", "4x4x8", 0.8), (5, 5, "fc", "1x1x8", 0.02)]
    rows = compare_ort.layer_rows(info, idx, us, profile)
    assert rows[0] == ("0-2", "conv3x3+dwconv3x3+conv1x1", "4x4x8", 1110, 300.0, 457.0), rows[0]
    assert rows[1][0] == "3" and rows[1][5] == 9.0 and abs(rows[1][4] - 8.0) < 1e-9, rows[1]
    assert rows[2][5] == 900.0 and rows[3][5] == 30.0, rows
    assert rows[-1][1] == "ONNX Runtime's other nodes" and rows[-1][5] == 5.0, rows[-1]
    acc, total = compare_ort.by_kind(rows)
    assert acc["fused groups"] == [1110, 300.0, 457.0], acc
    assert acc["depthwise"][0] == 20 and acc["1x1 convolution (GEMM)"][0] == 2000, acc
    assert acc["the rest"][0] == 5 and abs(acc["the rest"][2] - 35.0) < 1e-9, acc   # fc + others
    assert total[0] == 3135 and abs(total[1] - 1128.0) < 1e-9 and abs(total[2] - 1401.0) < 1e-9
    # ONNX Runtime times a run of the whole batch, mnet's profile one image
    nodes = [{"us": [10.0, 30.0]}, {"us": [4.0]}]
    assert compare_ort.node_means(nodes, 1) == [20.0, 4.0]
    assert compare_ort.node_means(nodes, 4) == [5.0, 1.0]
    # medians over rounds, line by line
    other = [r[:4] + (r[4] * 3, r[5] * 3) for r in rows]
    third = [r[:4] + (r[4] * 2, r[5] / 2) for r in rows]
    med = compare_ort.median_rows([rows, other, third])
    assert [m[4] for m in med] == [t[4] for t in third], med
    assert [m[5] for m in med] == [r[5] for r in rows], med
    # a profile naming a layer the model does not have
    try:
        compare_ort.layer_rows(info, idx, us, profile + [(6, 6, "fc", "1x1x8", 0.1)])
    except ValueError as e:
        assert "layer 6" in str(e), e
    else:
        raise AssertionError("accepted")


def t_command_line_errors():
    cases = [(["--models", "v9-1.0-224"], "ARCH one of"),
             (["--models", "v2-1.0-224", "--threads", "0"], ">= 1"),
             (["--models", "v2-1.0-224", "--threads", "one"], "invalid"),
             (["--models", "v2-1.0-224", "--batch", "0"], ">= 1"),
             (["--models", ",", "--mnet", MNET], "must name a model"),
             (["--models", "v2-1.0-224", "--mnet", "/nonexistent/mnet"], "not an executable")]
    for argv, why in cases:
        p = subprocess.run([sys.executable, TOOL, *argv, "--work", tempfile.mkdtemp(dir=TMP)],
                           capture_output=True, text=True)
        assert p.returncode == 2 and why in p.stderr and "Traceback" not in p.stderr, \
            (argv, p.returncode, p.stderr)


sys.exit(run(dict(globals())))
