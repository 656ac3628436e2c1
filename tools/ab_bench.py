#!/usr/bin/env python3
"""ab_bench.py - two or more commands that print `mnet bench`'s last line, run in interleaved
rounds, compared round by round.

On a shared, noisy machine a build's median moves by 5-10% from one minute to the next, so
two builds (or settings) measured one after the other cannot be told apart at the 1-3% level.
Here every round runs each command once (the order reversed every other round, so neither
always runs first), and the ratio of each command's median to the first command's is taken
within the round; the table gives the median of those ratios and their quartiles
(statistics.quantiles, inclusive method; with --rounds 1 there is one ratio, and q1 and q3 are
that ratio).

  tools/ab_bench.py --rounds 12 -- \\
      old "/work/old/build/mnet bench --arch v2 --threads 2 --runs 100" \\
      new "./build/mnet bench --arch v2 --threads 2 --runs 100" \\
      avx2 "MNET_ISA=avx2 ./build/mnet bench --arch v2 --threads 2 --runs 100"

Labels must differ.  A command is split like a shell would split it (shlex), but it is run
directly, not through a shell: leading VAR=value words are taken as that command's environment
(added to this one's), as in the third pair.  Of its output, the last line that starts with
"mnet-bench " is read as key=value pairs, and median_ms is the figure compared (--field picks
another of its numbers, e.g. first_ms, the first inference after the context was made, or
load_ms).  A command that fails, prints no such line, or runs longer than --timeout seconds
stops the comparison with a message (its stderr included) and a non-zero status, after the
table of the rounds completed so far, if any.
"""
import argparse
import math
import os
import re
import shlex
import statistics
import subprocess
import sys

ENV_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class Failed(Exception):
    """A command that gave no usable figure; the message says why."""


def split_command(text):
    """(environment, argv) of one command string; ValueError says what is wrong with it."""
    try:
        words = shlex.split(text)
    except ValueError as e:
        raise ValueError(f"cannot split {text!r}: {e}") from None
    env = {}
    while words and ENV_WORD.match(words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    if not words:
        raise ValueError(f"no command in {text!r}")
    return env, words


def parse_figure(out, field="median_ms"):
    """`field` (median_ms unless given) of the last "mnet-bench " line of out, as a float;
    Failed if there is none."""
    lines = [line for line in out.splitlines() if line.startswith("mnet-bench ")]
    if not lines:
        raise Failed("no 'mnet-bench ' line in its output")
    fields = dict(f.split("=", 1) for f in lines[-1].split()[1:] if "=" in f)
    if field not in fields:
        raise Failed(f"no {field}= in its last mnet-bench line: {lines[-1]}")
    text = fields[field]
    try:
        value = float(text)
    except ValueError:
        raise Failed(f"{field}={text} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise Failed(f"{field}={text} is not a finite, non-negative number")
    return value


def with_stderr(what, err):
    """what, then the command's stderr (if it wrote any) on the following lines."""
    if isinstance(err, bytes):          # TimeoutExpired keeps bytes even in text mode
        err = err.decode(errors="replace")
    err = (err or "").rstrip()
    return f"{what}, its stderr:\n{err}" if err else f"{what}, nothing on its stderr"


def start(env, argv):
    """A command started with env added to this one's environment, its output captured."""
    try:
        return subprocess.Popen(argv, env=dict(os.environ, **env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    except OSError as e:
        raise Failed(f"cannot run {argv[0]}: {e}") from None


def finish(p, timeout, field="median_ms"):
    """`field` of a started command's last mnet-bench line, once it has ended; Failed if it
    fails, runs longer than timeout seconds (it is then killed) or prints no such figure."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        raise Failed(with_stderr(f"timed out after {timeout:g} s (--timeout)", err)) from None
    if p.returncode:
        raise Failed(with_stderr(f"exit status {p.returncode}", err))
    return parse_figure(out, field)


def run_figure(env, argv, timeout, field="median_ms"):
    return finish(start(env, argv), timeout, field)


def quartiles(xs):
    """(q1, median, q3) of xs: statistics.quantiles' inclusive quartiles from two values on,
    the one value three times for one."""
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q1, med, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, med, q3


def table(cmds, ms, rounds, field="median_ms"):
    """The comparison over the first `rounds` rounds (complete ones only)."""
    base = cmds[0][0]
    head = "median ms" if field == "median_ms" else f"{field}: median"
    print(f"| command | {head} | / {base}, per round: median | q1 | q3 |")
    print("|---|---|---|---|---|")
    for label, _, _ in cmds:
        xs = ms[label][:rounds]
        q1, med, q3 = quartiles([x / y for x, y in zip(xs, ms[base][:rounds])])
        print(f"| {label} | {statistics.median(xs):.3f} | {med:.3f} | {q1:.3f} | {q3:.3f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="seconds one command may run (default 600)")
    ap.add_argument("--field", default="median_ms",
                    help="the mnet-bench figure compared (default median_ms; e.g. first_ms)")
    ap.add_argument("pairs", nargs="+", help="LABEL COMMAND [LABEL COMMAND ...]")
    a = ap.parse_args()
    if len(a.pairs) < 4 or len(a.pairs) % 2:
        ap.error("give at least two LABEL COMMAND pairs")
    if a.rounds < 1:
        ap.error("--rounds must be >= 1")
    if not a.timeout > 0 or math.isinf(a.timeout):
        ap.error("--timeout must be a positive number of seconds")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", a.field):
        ap.error(f"--field {a.field!r} is not a key of the mnet-bench line (e.g. first_ms)")
    cmds = []
    for label, text in zip(a.pairs[0::2], a.pairs[1::2]):
        if any(label == c[0] for c in cmds):
            ap.error(f"label {label!r} given twice: each command needs its own label")
        try:
            env, argv = split_command(text)
        except ValueError as e:
            ap.error(f"command of {label!r}: {e}")
        cmds.append((label, text, (env, argv)))
    base = cmds[0][0]
    ms = {label: [] for label, _, _ in cmds}
    for r in range(a.rounds):
        for label, text, (env, argv) in (cmds if r % 2 == 0 else cmds[::-1]):
            try:
                x = run_figure(env, argv, a.timeout, a.field)
                if label == base and x == 0:
                    raise Failed(f"{a.field}=0 for the first command: no ratio can be taken "
                                 "against it")
            except Failed as e:
                print(f"ab_bench: {label} (round {r + 1}): {text}\n  failed: "
                      + str(e).replace("\n", "\n  "), file=sys.stderr)
                if r:
                    print(f"ab_bench: the {r} round(s) completed before the failure:",
                          file=sys.stderr)
                    table(cmds, ms, r, a.field)
                sys.exit(1)
            ms[label].append(x)
    table(cmds, ms, a.rounds, a.field)


if __name__ == "__main__":
    main()
