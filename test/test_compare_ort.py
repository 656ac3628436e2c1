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
