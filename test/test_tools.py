#!/usr/bin/python3
"""test_tools.py - tools/ab_bench.py, tools/scaling.py, tools/kernel_sum.py and
bench/bench_python.py: their
command-line errors and failed commands give a message and a non-zero status instead of a
traceback, and what they print is computed and labelled as they say.

    test_tools.py TOOLS_DIR MNET BENCH_KERNELS BENCH_PYTHON

No speed is asserted.  ab_bench's arithmetic (ratios, quartiles, the last mnet-bench line, the
VAR=value environment) and scaling's figures are checked with fake commands that print fixed
medians (scaling's through a fake taskset), kernel_sum's sum
and its labels with a fake mnet and a fake bench_kernels, then both with the real binaries on a
tiny model (V2 0.35 96, a few runs).  bench_python needs MNET_LIBRARY and PYTHONPATH, as the
'python' test has them.  Prints "N passed, N failed".
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

from scripttest import run

TOOLS, MNET, BENCH_KERNELS, BENCH_PYTHON = (os.path.abspath(a) for a in sys.argv[1:5])
sys.path.insert(0, TOOLS)
import ab_bench  # noqa: E402

import scaling  # noqa: E402

AB = os.path.join(TOOLS, "ab_bench.py")
SC = os.path.join(TOOLS, "scaling.py")
KS = os.path.join(TOOLS, "kernel_sum.py")
TMP = tempfile.mkdtemp(prefix="mnet-test-tools-")
PY = sys.executable
TINY = ["--arch", "v2", "--alpha", "0.35", "--res", "96"]
M = shlex.join([MNET, "bench"] + TINY + ["--runs", "3"])

# A fake benchmark command: its Nth call (counted in a file named after its first argument)
# does what its Nth value says: a number prints an mnet-bench line with that median, "fail"
# exits 3 with a message on stderr, "sleep" sleeps, "raw:TEXT" prints TEXT ("|" for newlines).
FAKE = os.path.join(TMP, "fake_bench.py")
with open(FAKE, "w") as f:
    f.write("""import os, sys, time
name, values = sys.argv[1], sys.argv[2:]
count = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".count")
n = int(open(count).read()) if os.path.exists(count) else 0
open(count, "w").write(str(n + 1))
v = values[n % len(values)]
if v == "fail":
    sys.exit("fake_bench: failed on purpose")
if v == "sleep":
    time.sleep(30)
print(v[4:].replace("|", "\\n") if v.startswith("raw:") else
      f"mnet-bench model=fake isa=none runs=3 median_ms={v} min_ms={v}")
""")


def fake(name, *values):
    """The command string of a fake benchmark (see FAKE) with a fresh counter."""
    count = os.path.join(TMP, name + ".count")
    if os.path.exists(count):
        os.remove(count)
    return shlex.join([PY, FAKE, name, *values])


def tool(script, *args, env=None, cwd=None):
    p = subprocess.run([PY, script, *args], capture_output=True, text=True, env=env, cwd=cwd,
                       timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, p.stdout, p.stderr


def rows(out):
    """{label: [median ms, ratio median, q1, q3]} of ab_bench's table."""
    table = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[0-9.]+", cells[1]):
            table[cells[0]] = [float(c) for c in cells[1:]]
    return table


# ---- ab_bench ------------------------------------------------------------------------------

def t_ab_quartiles_inclusive():
    assert ab_bench.quartiles([4.0, 1.0, 3.0, 2.0]) == (1.75, 2.5, 3.25)
    assert ab_bench.quartiles([1.0, 2.0]) == (1.25, 1.5, 1.75)     # not min and max
    assert ab_bench.quartiles([5.0]) == (5.0, 5.0, 5.0)


def t_ab_ratios_round_by_round():
    # b's medians are 1, 2, 3, 4 times a's in its successive rounds.
    rc, out, err = tool(AB, "--rounds", "4", "a", fake("a", "2"),
                        "b", fake("b", "2", "4", "6", "8"))
    assert rc == 0, err
    t = rows(out)
    assert list(t) == ["a", "b"], out
    assert t["a"] == [2.0, 1.0, 1.0, 1.0], out
    assert t["b"] == [5.0, 2.5, 1.75, 3.25], out


def t_ab_last_mnet_bench_line_and_exponents():
    two = "raw:mnet-bench median_ms=9|note median_ms=7|mnet-bench runs=3 median_ms=1.2e-3|done"
    rc, out, err = tool(AB, "--rounds", "1", "base", fake("base", "6e-4"), "two", fake("two", two))
    assert rc == 0, err
    assert rows(out)["two"][1] == 2.0, out


def t_ab_env_prefix():
    show = shlex.join([PY, "-c", "import os; print('mnet-bench median_ms=' + os.environ['AB_MS'])"])
    rc, out, err = tool(AB, "--rounds", "2", "one", "AB_MS=1.5 " + show,
                        "two", "AB_MS=3 AB_UNUSED=x " + show)
    assert rc == 0, err
    t = rows(out)
    assert t["one"][0] == 1.5 and t["two"][0] == 3.0 and t["two"][1] == 2.0, out


def t_ab_real_mnet_bench():
    rc, out, err = tool(AB, "--rounds", "2", "default", M, "scalar", "MNET_ISA=scalar " + M)
    assert rc == 0, err
    t = rows(out)
    assert list(t) == ["default", "scalar"] and t["default"][1:] == [1.0, 1.0, 1.0], out
    assert t["scalar"][0] > 0, out


def t_ab_field():
    """--field compares another figure of the mnet-bench line: here first_ms, while median_ms
    says the opposite; a missing key names the field."""
    line = "raw:mnet-bench median_ms={} first_ms={}"
    rc, out, err = tool(AB, "--rounds", "2", "--field", "first_ms",
                        "a", fake("fa", line.format(1, 4)), "b", fake("fb", line.format(2, 2)))
    assert rc == 0, err
    t = rows(out)
    assert "first_ms: median" in out and t["a"][0] == 4.0 and t["b"][1] == 0.5, out
    rc, out, err = tool(AB, "--rounds", "1", "--field", "load_ms",
                        "a", fake("fc", "1"), "b", fake("fd", "1"))
    assert rc == 1 and "no load_ms=" in err, (rc, err)
    rc, out, err = tool(AB, "--field", "first ms", "a", fake("fe", "1"), "b", fake("ff", "1"))
    assert rc == 2 and "--field" in err, (rc, err)
    rc, out, err = tool(AB, "--rounds", "2", "--field", "first_ms", "default", M, "again", M)
    assert rc == 0, err
    assert rows(out)["default"][0] > 0, out


def t_ab_command_line_errors():
    ok = fake("ok", "1")
    cases = [
        (["a", ok, "a", ok], "given twice"),
        (["a", ok], "at least two"),
        (["a", "", "b", ok], "no command"),
        (["a", "ONLY=env", "b", ok], "no command"),
        (["a", ok, "b", "echo 'unbalanced"], "No closing quotation"),
        (["--rounds", "0", "a", ok, "b", ok], "--rounds"),
        (["--timeout", "0", "a", ok, "b", ok], "--timeout"),
        (["--timeout", "nan", "a", ok, "b", ok], "--timeout"),
    ]
    for args, why in cases:
        rc, out, err = tool(AB, *args)
        assert rc == 2 and why in err, (args, rc, err)


def t_ab_failed_commands():
    cases = [
        (["a", M, "b", M + " --runs 0"], ["b (round 1)", "exit status 2", "--runs: '0'"]),
        (["a", "/nonexistent/mnet bench", "b", M], ["cannot run /nonexistent/mnet"]),
        (["a", fake("z", "0.000"), "b", M], ["median_ms=0"]),
        (["a", fake("dot", "."), "b", M], ["median_ms=. is not a number"]),
        (["a", fake("inf", "nan"), "b", M], ["not a finite"]),
        (["a", M, "b", fake("nokey", "raw:mnet-bench min_ms=1")], ["no median_ms="]),
        (["a", M, "b", fake("noline", "raw:median_ms=1")], ["no 'mnet-bench ' line"]),
        (["--timeout", "0.5", "a", M, "b", fake("slow", "sleep")], ["timed out after 0.5 s"]),
    ]
    for args, whys in cases:
        rc, out, err = tool(AB, "--rounds", "2", *args)
        assert rc == 1 and all(w in err for w in whys), (args, rc, err)
        assert "| command |" not in out, out              # no round was complete


def t_ab_failure_keeps_completed_rounds():
    rc, out, err = tool(AB, "--rounds", "4", "a", fake("a2", "1"),
                        "b", fake("b2", "2", "2", "fail"))
    assert rc == 1 and "b (round 3)" in err and "failed on purpose" in err, (rc, err)
    assert "2 round(s) completed" in err, err
    assert rows(out)["b"] == [2.0, 2.0, 2.0, 2.0], out


# ---- scaling -------------------------------------------------------------------------------

# A fake taskset (-c CPU COMMAND...: runs COMMAND with FAKE_CPU=CPU) and a fake one-thread
# benchmark: `fake_scale.py DIR SOLO0 SOLO1 COPY0 COPY1 THREADS [fail]` prints THREADS as its
# median when given --threads, else, on CPU c, COPYc when another copy runs at the same time
# (a marker file per running process in DIR, counted after a pause), else SOLOc; with "fail"
# a copy on CPU 1 exits 3.
FAKE_TASKSET = os.path.join(TMP, "fake_taskset.py")
with open(FAKE_TASKSET, "w") as f:
    f.write(f"""#!{PY}
import os, sys
assert sys.argv[1] == "-c", sys.argv
os.environ["FAKE_CPU"] = sys.argv[2]
os.execvp(sys.argv[3], sys.argv[3:])
""")
os.chmod(FAKE_TASKSET, 0o755)
FAKE_SCALE = os.path.join(TMP, "fake_scale.py")
with open(FAKE_SCALE, "w") as f:
    f.write("""import os, sys, time
d, solo0, solo1, copy0, copy1, threads = sys.argv[1:7]
fail = "fail" in sys.argv[7:]
if "--threads" in sys.argv:
    assert sys.argv[sys.argv.index("--threads") + 1] == "2" and "FAKE_CPU" not in os.environ
    v = threads
else:
    cpu = int(os.environ["FAKE_CPU"])
    mark = os.path.join(d, f"running.{os.getpid()}")
    open(mark, "w").close()
    time.sleep(0.6)
    together = len([n for n in os.listdir(d) if n.startswith("running.")]) > 1
    time.sleep(0.3)
    os.remove(mark)
    if together and cpu == 1 and fail:
        sys.exit("fake_scale: the copy failed on purpose")
    v = (copy0, copy1)[cpu] if together else (solo0, solo1)[cpu]
print(f"mnet-bench model=fake isa=none median_ms={v}")
""")


def scale_rows(out):
    """{figure or run: [numbers]} of scaling's two tables."""
    table = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and all(re.fullmatch(r"[0-9.]+", c) for c in cells[1:]):
            table[cells[0]] = [float(c) for c in cells[1:]]
    return table


def t_sc_figures():
    figs = dict(scaling.figures({0: 4.0, 1: 5.0}, 2.5, {0: 4.4, 1: 5.5}))
    want = {"speed-up vs CPU 0": 1.6, "speed-up vs CPU 1": 2.0, "speed-up vs the fastest": 1.6,
            "CPU gap (slowest / fastest)": 1.25, "threads' efficiency": 0.4 / 0.45,
            "copies' efficiency": (1 / 4.4 + 1 / 5.5) / 0.45,
            "ceiling vs the fastest": (1 / 4.4 + 1 / 5.5) * 4.0}
    assert figs.keys() == want.keys(), figs
    for k, v in want.items():
        assert abs(figs[k] - v) < 1e-12, (k, figs[k], v)
    # the fastest is whichever CPU was faster in that round
    figs = dict(scaling.figures({0: 6.0, 1: 3.0}, 2.0, {0: 6.0, 1: 3.0}))
    assert figs["speed-up vs the fastest"] == 1.5 and figs["ceiling vs the fastest"] == 1.5


def t_sc_parse_cpus():
    assert scaling.parse_cpus("0,1") == [0, 1]
    assert scaling.parse_cpus("3, 0-2") == [0, 1, 2, 3]
    assert scaling.parse_cpus("1,1,2") == [1, 2]
    for bad, why in [("0", "at least two"), ("1-1", "at least two"), ("a,1", "'a'"),
                     ("2-1", "'2-1'"), ("-1,0", "'-1'"), ("0,,1", "''")]:
        try:
            scaling.parse_cpus(bad)
        except ValueError as e:
            assert why in str(e), (bad, str(e))
        else:
            raise AssertionError(f"{bad!r} accepted")


def t_sc_fake_rounds():
    d = os.path.join(TMP, "scale-ok")
    os.makedirs(d)
    rc, out, err = tool(SC, "--rounds", "2", "--cpus", "0,1", "--taskset", FAKE_TASKSET, "--",
                        PY, FAKE_SCALE, d, "4", "5", "4.4", "5.5", "2.5")
    assert rc == 0, err
    t = scale_rows(out)
    assert t["one thread on CPU 0"] == [4.0] and t["one thread on CPU 1"] == [5.0], out
    assert t["copy on CPU 0 (all 2 at once)"] == [4.4], out
    assert t["copy on CPU 1 (all 2 at once)"] == [5.5] and t["2 threads"] == [2.5], out
    assert t["speed-up vs CPU 1"] == [2.0, 2.0, 2.0] and t["speed-up vs the fastest"][0] == 1.6
    assert t["threads' efficiency"][0] == 0.889 and t["copies' efficiency"][0] == 0.909, out
    assert t["ceiling vs the fastest"][0] == 1.636 and t["CPU gap (slowest / fastest)"][0] == 1.25
    assert os.listdir(d) == [], os.listdir(d)


def t_sc_command_line_errors():
    ok = [PY, FAKE_SCALE, TMP, "1", "1", "1", "1", "1"]
    cases = [
        ([], "give the benchmark command"),
        (["--"], "give the benchmark command"),
        (["--rounds", "0", "--"] + ok, "--rounds"),
        (["--timeout", "inf", "--"] + ok, "--timeout"),
        (["--cpus", "0", "--"] + ok, "at least two"),
        (["--cpus", "x-1", "--"] + ok, "not a CPU number"),
        (["--", MNET, "bench", "--threads", "2"], "sets --threads itself"),
        (["--", MNET, "bench", "--threads=2"], "sets --threads itself"),
        (["--", "ONLY=env"], "no command"),
    ]
    for args, why in cases:
        rc, out, err = tool(SC, *args)
        assert rc == 2 and why in err, (args, rc, err)


def t_sc_failed_commands():
    d = os.path.join(TMP, "scale-fail")
    os.makedirs(d)
    rc, out, err = tool(SC, "--rounds", "3", "--cpus", "0,1", "--taskset", FAKE_TASKSET, "--",
                        PY, FAKE_SCALE, d, "4", "5", "4.4", "5.5", "2.5", "fail")
    assert rc == 1 and "round 1, copies" in err and "the copy on CPU 1" in err, (rc, err)
    assert "failed on purpose" in err and "| figure |" not in out, (err, out)
    rc, out, err = tool(SC, "--rounds", "1", "--cpus", "0,1", "--taskset", "/nonexistent/ts",
                        "--", MNET, "bench")
    assert rc == 1 and "round 1, solo" in err and "cannot run /nonexistent/ts" in err, err
    rc, out, err = tool(SC, "--rounds", "1", "--cpus", "0,1", "--", M + " --runs 0")
    assert rc == 1 and "exit status 2" in err and "--runs: '0'" in err, err


def t_sc_real_mnet_bench():
    cpus = sorted(os.sched_getaffinity(0))
    rc, out, err = tool(SC, "--rounds", "1", "--", M)
    if len(cpus) < 2:   # a one-CPU machine: the tool says so
        assert rc == 2 and "two or more are needed" in err, (rc, err)
        return
    assert rc == 0, err
    t = scale_rows(out)
    assert len(t) == 2 * len(cpus) + 1 + len(cpus) + 5, out
    assert all(v[0] > 0 for v in t.values()), out


# ---- kernel_sum ----------------------------------------------------------------------------

def fake_mnet_and_bench(info):
    """A fake mnet (isa, info printing `info`, bench) and bench_kernels (two avx2 kernels)."""
    mnet = os.path.join(TMP, "fake_mnet")
    with open(mnet, "w") as f:
        f.write(f"""#!{PY}
import sys
cmd = sys.argv[1]
if cmd == "isa":
    print("selected isa: avx2 (MNET_ISA=...)\\nscalar  available\\navx2    available\\n"
          "neon    not available")
elif cmd == "info":
    print({info!r})
else:
    print("mnet-bench model=fake isa=avx2 median_ms=0.5000 min_ms=0.4")
""")
    bench = os.path.join(TMP, "fake_bench_kernels")
    report = {"benchmarks": [
        {"name": "conv3x3/k__avx2/m/h=32,w=32,cin=3,cout=8,s=2", "run_type": "iteration",
         "real_time": 100.0, "time_unit": "us"},
        {"name": "gemm/k__avx2/m/m=1,n=10,k=8", "run_type": "iteration",
         "real_time": 20000.0, "time_unit": "ns"}]}
    with open(bench, "w") as f:
        f.write(f"#!{PY}\nprint({json.dumps(json.dumps(report))})\n")
    os.chmod(mnet, 0o755)
    os.chmod(bench, 0o755)
    return ["--mnet", mnet, "--bench", bench, "--cpu", "-1", "--runs", "1", "--rounds", "1"]


def last_line(out):
    m = re.search(r"^kernel-sum .*$", out, re.M)
    assert m, out
    return dict(f.split("=", 1) for f in m.group(0).split()[1:])


INFO = """fake: MobileNet v2
  #  op         input          output         stride  act       res      params          MACs
  0  conv3x3    32x32x3        16x16x8             2  relu6                 216        55296
  1  conv1x1    16x16x8        16x16x8             1  none                   64        16384
  2  fc         16x16x8        1x1x10              1  none                   90           80"""


def t_ks_sum_complete_and_partial_fake():
    args = fake_mnet_and_bench(INFO)
    rc, out, err = tool(KS, *args, "--arch", "v2")
    assert rc == 0, err
    f = last_line(out)                                   # layer 1's 1x1 shape is not registered
    assert (f["sum_ms"], f["network_ms"], f["missing"]) == ("0.1200", "0.5000", "1"), out
    assert (f["layers_timed"], f["layers"]) == ("2", "3"), out
    assert "sum over 2 of 3 layers (partial)" in out and "sum of the kernels alone" not in out, out
    assert "no ratio" in out and "not pinned" in out, out
    complete = "\n".join(line for line in INFO.splitlines() if " conv1x1 " not in line)
    args = fake_mnet_and_bench(complete)
    rc, out, err = tool(KS, *args, "--arch", "v2", "--layers")
    assert rc == 0, err
    f = last_line(out)
    assert (f["sum_ms"], f["layers_timed"], f["layers"]) == ("0.1200", "2", "2"), out
    assert "sum of the kernels alone  0.120 ms" in out and "network / sum 4.167" in out, out
    lines = out.splitlines()                             # the header before the layers
    assert lines[0].startswith("v2 (avx2, one thread, not pinned") and \
        lines[1].startswith("  layer   0 conv3x3"), out


def t_ks_unreadable_layer_row():
    args = fake_mnet_and_bench(INFO.replace("  1  conv1x1    16x16x8 ", "  1  conv1x1    16x16 "))
    rc, out, err = tool(KS, *args, "--arch", "v2")
    assert rc == 0, err
    assert "cannot read this layer row" in err and "1  conv1x1    16x16 " in err, err
    f = last_line(out)
    assert (f["unread"], f["layers_timed"], f["layers"]) == ("1", "2", "3"), out
    assert "sum over 2 of 3 layers" in out and "no ratio" in out, out


def real_isa():
    out = subprocess.run([MNET, "isa"], capture_output=True, text=True, check=True).stdout
    tiers = dict(re.findall(r"^(\w+)\s+(available|not available)\s*$", out, re.M))
    return re.search(r"selected isa: (\w+)", out).group(1), tiers


def t_ks_command_line_errors():
    base = ["--mnet", MNET, "--bench", BENCH_KERNELS, "--runs", "2", "--rounds", "1",
            "--min-time", "0.001", "--cpu", "-1"]
    _, tiers = real_isa()
    absent = [t for t, state in tiers.items() if state == "not available"]
    other_cpu = str(max(os.sched_getaffinity(0)) + 1)
    cases = [
        (["--isa", "AVX512X"], 2, "not an ISA mnet knows"),
        (["--isa", ""], 2, "not an ISA mnet knows"),
        (["--arch", "v9"], 1, "'v9' is not"),
        ([os.path.join(TMP, "none.mnet")], 1, "cannot open"),
        (["--arch", "v2", "--alpha", "abc"], 1, "'abc' is not a number"),
        (["--arch", "v2", "--alpha", ""], 1, "'' is not a number"),
        (["--arch", "v2", "--alpha", "0"], 1, "alpha 0 is not"),
        (["--arch", "v2", "--res", "0"], 1, "--res: '0'"),
        (["--cpu", other_cpu], 2, "not a CPU this process may run on"),
        (["--runs", "0"], 2, "--runs must be >= 1"),
        (["--rounds", "0"], 2, "--rounds must be >= 1"),
        (["--rounds", "-2"], 2, "--rounds must be >= 1"),
        (["x.mnet", "--alpha", "0.5"], 2, "--alpha: only without MODEL"),
        (["x.mnet", "--alpha", ""], 2, "--alpha: only without MODEL"),
        (["x.mnet", "--res", "96"], 2, "--res: only without MODEL"),
        (["--arch", "v2", "--min-time", "abc"], 1, "benchmark_min_time"),
        (["--mnet", os.path.join(TMP, "no-mnet")], 1, "cannot run"),
    ] + [(["--isa", t.upper()], 2, "not available on this CPU") for t in absent]
    for args, code, why in cases:
        rc, out, err = tool(KS, *base, *args)
        assert rc == code and why in err and err.startswith(("kernel_sum", "usage")), \
            (args, rc, err)


def t_ks_real_partial_sum_and_auto_isa():
    selected, _ = real_isa()
    base = ["--mnet", MNET, "--bench", BENCH_KERNELS, "--runs", "2", "--rounds", "1",
            "--min-time", "0.001", "--cpu", "-1", "--isa", "AUTO", *TINY]
    info = subprocess.run([MNET, "info"] + TINY, capture_output=True, text=True).stdout
    n = len(re.findall(r"^\s*\d+\s", info, re.M))
    # bench_kernels' built-in shapes only (1.0 224): V2 0.35 96's are missing, and said so
    rc, out, err = tool(KS, *base, "--no-model-shapes")
    assert rc == 0, err
    f = last_line(out)
    assert f["isa"] == selected and f["layers"] == str(n) and int(f["missing"]) > 0, out
    timed = n - int(f["missing"]) - int(f["untimed"])
    assert f["layers_timed"] == str(timed) and timed < n, out
    assert f"sum over {timed} of {n} layers (partial)" in out, out
    # by default the model goes to bench_kernels (--mnet_model): every layer has its benchmark
    rc, out, err = tool(KS, *base, "--layers")
    assert rc == 0, err
    f = last_line(out)
    assert (f["missing"], f["untimed"], f["layers_timed"]) == ("0", "0", str(n)), out
    assert "sum of the kernels alone" in out and "network / sum" in out, out
    assert len(re.findall(r"^  layer +\d+ ", out, re.M)) == n, out


def t_ks_default_paths_from_the_script():
    default = os.path.join(TOOLS, "..", "build", "mnet")
    if not (os.path.exists(default) and os.path.samefile(default, MNET)):
        print("  (the build folder is not build/: default paths not checked)")
        return
    rc, out, err = tool(KS, "--isa", "nosuch", cwd=TMP)     # `mnet isa` found from elsewhere
    assert rc == 2 and "not an ISA mnet knows" in err, (rc, err)


# ---- first_after_ort (its runs need ONNX Runtime's node package: only what it refuses) -----

FAO = os.path.join(TOOLS, "first_after_ort.py")


def t_fao_arguments():
    for args, why in ((["--trials", "0"], "--trials"), (["--ort-runs", "-1"], "--ort-runs"),
                      (["--runs", "0"], "--runs"), (["--threads", "0"], "--threads")):
        rc, out, err = tool(FAO, *args, "--work", TMP)
        assert rc == 2 and why in err, (args, rc, err)


def t_fao_missing_model_files():
    empty = os.path.join(TMP, "fao-empty")
    os.makedirs(empty, exist_ok=True)
    rc, out, err = tool(FAO, "--model", "v2-0.5-224", "--work", empty, "--mnet", MNET)
    assert rc == 1 and "v2-0.5-224.onnx is missing" in err and "compare_ort.py --models" in err, (rc, err)
    assert out == "", out


# ---- bench_python --------------------------------------------------------------------------

def t_bp_arguments():
    cases = [(["--threads", "0"], 2, "--threads"), (["--threads", "-1"], 2, "--threads"),
             (["--runs", "0"], 2, "--runs"), (["--runs", "-3"], 2, "--runs"),
             (["--reps", "0"], 2, "--reps"), (["--arch", "v9"], 1, "arch must be one of"),
             (["--alpha", "0"], 1, "alpha 0"), (["--res", "0"], 1, "resolution 0")]
    for args, code, why in cases:
        rc, out, err = tool(BENCH_PYTHON, *args)
        assert rc == code and why in err, (args, rc, err)


def t_bp_without_pythonpath():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    rc, out, err = tool(BENCH_PYTHON, "--threads", "1", env=env, cwd=TMP)
    assert rc == 1 and "PYTHONPATH=python" in err and "MNET_LIBRARY" in err, (rc, err)


def t_bp_runs_and_warns_on_short_passes():
    rc, out, err = tool(BENCH_PYTHON, *TINY, "--threads", "2", "--runs", "1", "--reps", "3")
    assert rc == 0, err
    assert "2 inferences" in out and "speed-up" in out and "median of 3" in out, out
    assert "warning: a timed pass took only" in err, err


sys.exit(run(dict(globals())))
