#!/usr/bin/env python3
"""kernel_sum_smoke.py KERNEL_SUM MNET BENCH_KERNELS - tools/kernel_sum.py finds a kernel
benchmark for every layer of the models bench_kernels registers, and says so when it cannot.

Timing-free (no speed is asserted): kernel_sum hands the model to bench_kernels
(--mnet_model), so V1, V2 1.0 224, V1 at alpha 0.5, V2 at 160 and a model file must map every
layer to a bench_kernels shape (none missing, none untimed), V3 only its squeeze-and-excite
layers untimed; with --no-model-shapes (bench_kernels' built-in 1.0 224 shapes only) V1 at alpha
0.5 has shapes bench_kernels does not register, which must be reported as missing rather than
silently left out."""
import os
import re
import subprocess
import sys


def run(script, mnet, bench, arch_args):
    cmd = [sys.executable, script, "--mnet", mnet, "--bench", bench, "--cpu", "-1",
           "--runs", "2", "--rounds", "2", "--min-time", "0.001"] + arch_args
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(r"kernel-sum model=\S+ isa=(\w+) sum_ms=([0-9.]+) network_ms=([0-9.]+) "
                  r"missing=(\d+) untimed=(\d+)", out)
    assert m, out
    isa, total, net, missing, untimed = m.group(1), float(m.group(2)), float(m.group(3)), \
        int(m.group(4)), int(m.group(5))
    assert total > 0 and net > 0, out
    return out, missing, untimed


def main():
    script, mnet, bench = sys.argv[1:4]
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                           "v1_a025_r128_same.mnet")
    for args in (["--arch", "v1"], ["--arch", "v2"], ["--arch", "v1", "--alpha", "0.5"],
                 ["--arch", "v2", "--res", "160"], [fixture]):
        out, missing, untimed = run(script, mnet, bench, args)
        assert missing == 0 and untimed == 0, out
        assert "sum of the kernels alone" in out, out
    out, missing, untimed = run(script, mnet, bench, ["--arch", "v3-large"])
    assert missing == 0, out
    assert untimed > 0 and "se_" in out.split("not timed")[1], out
    out, missing, untimed = run(script, mnet, bench, ["--arch", "v1", "--alpha", "0.5",
                                                      "--no-model-shapes"])
    assert missing > 0 and "missing from bench_kernels" in out, out
    print("kernel_sum_smoke: every layer of V1/V2 (1.0 224, 0.5, 160, a file) timed, V3's SE "
          "layers listed, V1 0.5's shapes reported missing with --no-model-shapes")


if __name__ == "__main__":
    main()
