#!/usr/bin/env python3
"""ab_bench.py - two or more commands that print `mnet bench`'s last line, run in interleaved
rounds, compared round by round.

On a shared, noisy machine a build's median moves by 5-10% from one minute to the next, so
two builds (or settings) measured one after the other cannot be told apart at the 1-3% level.
Here every round runs each command once (the order reversed every other round, so neither
always runs first), and the ratio of each command's median to the first command's is taken
within the round; the table gives the median of those ratios and their quartiles.

  tools/ab_bench.py --rounds 12 -- \\
      old "/work/old/build/mnet bench --arch v2 --threads 2 --runs 100" \\
      new "./build/mnet bench --arch v2 --threads 2 --runs 100"
"""
import argparse
import re
import shlex
import statistics
import subprocess
import sys


def median_ms(cmd):
    out = subprocess.run(shlex.split(cmd), check=True, capture_output=True, text=True).stdout
    m = re.search(r"median_ms=([0-9.]+)", out)
    if not m:
        sys.exit(f"ab_bench: no median_ms= in the output of: {cmd}")
    return float(m.group(1))


def quartiles(xs):
    s = sorted(xs)
    return s[len(s) // 4], statistics.median(s), s[(3 * len(s)) // 4]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("pairs", nargs="+", help="LABEL COMMAND [LABEL COMMAND ...]")
    a = ap.parse_args()
    if len(a.pairs) < 4 or len(a.pairs) % 2:
        ap.error("give at least two LABEL COMMAND pairs")
    if a.rounds < 1:
        ap.error("--rounds must be >= 1")
    cmds = list(zip(a.pairs[0::2], a.pairs[1::2]))
    ms = {label: [] for label, _ in cmds}
    for r in range(a.rounds):
        for label, cmd in (cmds if r % 2 == 0 else cmds[::-1]):
            ms[label].append(median_ms(cmd))
    base = cmds[0][0]
    print(f"| command | median ms | / {base}, per round: median | q1 | q3 |")
    print("|---|---|---|---|---|")
    for label, _ in cmds:
        q1, med, q3 = quartiles([x / y for x, y in zip(ms[label], ms[base])])
        print(f"| {label} | {statistics.median(ms[label]):.3f} | {med:.3f} | {q1:.3f} | {q3:.3f} |")


if __name__ == "__main__":
    main()
