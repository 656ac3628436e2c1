#!/usr/bin/env python3
"""scaling.py - what N threads of one inference get out of N CPUs, against what the machine
itself lets any runtime get: the same benchmark run as independent copies, one per CPU, at once.

  tools/scaling.py --rounds 8 -- ./build/mnet bench --arch v2 --runs 150

A speed-up against "one thread" depends on which CPU that thread ran on when the CPUs are not
equally fast (the vCPUs of a shared VM often differ by 10-30% and trade places within minutes),
and two threads can only add what two CPUs have between them.  So each round runs, interleaved:

  - solo:    the command on one thread, pinned to each CPU in turn (taskset -c CPU);
  - threads: the command with --threads N (N = the number of CPUs), not pinned;
  - copies:  N copies of the one-thread command at once, one pinned to each CPU.

The copies share nothing and never wait for each other, so together they process as many images
per second as N cores can while all of them are busy: the ceiling of any multi-threaded
runtime on this machine at that moment (a shared cache, memory bandwidth or a host that slows
busy vCPUs down lower it; threads that share work can only lose more).  The order of the three
is reversed every other round.  Per round, from the medians (median_ms of the last "mnet-bench"
line each command prints; a speed is 1 / median):

  speed-up vs CPU c          solo time on CPU c / threads time
  speed-up vs the fastest    fastest solo time / threads time
  CPU gap                    slowest solo time / fastest solo time
  threads' efficiency        threads' speed / the sum of the solo speeds
  copies' efficiency         the copies' summed speeds / the sum of the solo speeds
  ceiling vs the fastest     the copies' summed speeds / the fastest solo speed: the largest
                             speed-up against the fastest CPU that any runtime could have shown

and the table gives each figure's median over the rounds with its quartiles.  The command is
split like a shell would split it (shlex; leading VAR=value words are its environment) and run
directly; it must not set --threads itself.  --cpus picks the CPUs (default: every CPU this
process may run on; at least two).  A command that fails or prints no figure stops the tool
with a message and a non-zero status.
"""
import argparse
import math
import os
import shlex
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ab_bench  # noqa: E402  (split_command, start, finish, quartiles, Failed)


def parse_cpus(text):
    """The sorted CPU numbers of "0,1" or "0-3" (or a mix); ValueError says what is wrong."""
    cpus = set()
    for part in text.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise ValueError(f"--cpus {text!r}: {part!r} is not a CPU number or a range A-B") \
                from None
        if a < 0 or b < a:
            raise ValueError(f"--cpus {text!r}: {part!r} is not a CPU number or a range A-B")
        cpus.update(range(a, b + 1))
    if len(cpus) < 2:
        raise ValueError(f"--cpus {text!r}: give at least two CPUs")
    return sorted(cpus)


def figures(solo, threads, copies):
    """The figures of one round (see the module's docstring) from {cpu: solo ms}, the threaded
    run's ms and {cpu: ms of the copy pinned there}, as an ordered list of (name, value)."""
    cpus = sorted(solo)
    fastest, slowest = min(solo.values()), max(solo.values())
    solo_speed = sum(1.0 / solo[c] for c in cpus)
    copy_speed = sum(1.0 / copies[c] for c in cpus)
    out = [(f"speed-up vs CPU {c}", solo[c] / threads) for c in cpus]
    out += [("speed-up vs the fastest", fastest / threads),
            ("CPU gap (slowest / fastest)", slowest / fastest),
            ("threads' efficiency", (1.0 / threads) / solo_speed),
            ("copies' efficiency", copy_speed / solo_speed),
            ("ceiling vs the fastest", copy_speed * fastest)]
    return out


def table(rounds_figs, medians):
    """Print the medians of the times, then each figure's median and quartiles over rounds."""
    print("| run | median ms (median of the rounds) |")
    print("|---|---|")
    for name, xs in medians.items():
        print(f"| {name} | {statistics.median(xs):.3f} |")
    print()
    print("| figure | median | q1 | q3 |")
    print("|---|---|---|---|")
    for i, (name, _) in enumerate(rounds_figs[0]):
        q1, med, q3 = ab_bench.quartiles([r[i][1] for r in rounds_figs])
        print(f"| {name} | {med:.3f} | {q1:.3f} | {q3:.3f} |")


def finish(p, timeout):
    """median_ms of a started command (ab_bench.start), non-zero, or Failed."""
    value = ab_bench.finish(p, timeout)
    if value == 0:
        raise ab_bench.Failed("median_ms=0: no speed can be taken from it")
    return value


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--cpus", help="CPUs to use, e.g. 0,1 or 0-3 (default: all this process "
                    "may run on)")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="seconds one run may take (default 600)")
    ap.add_argument("--taskset", default="taskset", help="the taskset program (default: taskset)")
    ap.add_argument("command", nargs=argparse.REMAINDER,
                    help="-- then the one-thread benchmark command (prints an mnet-bench line)")
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("give the benchmark command after --")
    if a.rounds < 1:
        ap.error("--rounds must be >= 1")
    if not a.timeout > 0 or math.isinf(a.timeout):
        ap.error("--timeout must be a positive number of seconds")
    try:
        cpus = parse_cpus(a.cpus) if a.cpus else sorted(os.sched_getaffinity(0))
        # one word: a quoted command line; several: the words as the shell split them
        env, argv = ab_bench.split_command(cmd[0] if len(cmd) == 1 else shlex.join(cmd))
    except ValueError as e:
        ap.error(str(e))
    if len(cpus) < 2:
        ap.error(f"this process may run on {len(cpus)} CPU only: two or more are needed "
                 "(--cpus)")
    if any(w == "--threads" or w.startswith("--threads=") for w in argv):
        ap.error("the command sets --threads itself: give the one-thread command")
    n = len(cpus)

    def pinned(c):
        return [a.taskset, "-c", str(c)] + argv

    medians = {f"one thread on CPU {c}": [] for c in cpus}
    medians[f"{n} threads"] = []
    medians.update({f"copy on CPU {c} (all {n} at once)": [] for c in cpus})
    rounds_figs = []
    for r in range(a.rounds):
        solo, copies, threads = {}, {}, None
        phases = ["solo", "threads", "copies"]
        for phase in (phases if r % 2 == 0 else phases[::-1]):
            try:
                if phase == "solo":
                    for c in cpus:
                        solo[c] = finish(ab_bench.start(env, pinned(c)), a.timeout)
                elif phase == "threads":
                    threads = finish(ab_bench.start(env, argv + ["--threads", str(n)]), a.timeout)
                else:
                    procs = []
                    try:
                        for c in cpus:
                            procs.append((c, ab_bench.start(env, pinned(c))))
                    except ab_bench.Failed:
                        for _, q in procs:   # leave no copy running behind
                            q.kill()
                            q.communicate()
                        raise
                    failure = None
                    for c, p in procs:   # wait for every copy, even after one failed
                        try:
                            copies[c] = finish(p, a.timeout)
                        except ab_bench.Failed as e:
                            failure = failure or (c, e)
                    if failure:
                        raise ab_bench.Failed(f"the copy on CPU {failure[0]}: {failure[1]}")
            except ab_bench.Failed as e:
                print(f"scaling: round {r + 1}, {phase}: " + str(e).replace("\n", "\n  "),
                      file=sys.stderr)
                if rounds_figs:
                    print(f"scaling: the {len(rounds_figs)} round(s) completed before the "
                          "failure:", file=sys.stderr)
                    table(rounds_figs, {k: v[:len(rounds_figs)] for k, v in medians.items()})
                sys.exit(1)
        for c in cpus:
            medians[f"one thread on CPU {c}"].append(solo[c])
            medians[f"copy on CPU {c} (all {n} at once)"].append(copies[c])
        medians[f"{n} threads"].append(threads)
        rounds_figs.append(figures(solo, threads, copies))
    print(f"{a.rounds} round(s), CPUs {','.join(map(str, cpus))}: {' '.join(argv)}")
    table(rounds_figs, medians)


if __name__ == "__main__":
    main()
