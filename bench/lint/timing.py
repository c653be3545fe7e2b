#!/usr/bin/env python3
"""Times commands on one input: a warm-up run each, then RUNS rounds that run every command once
in turn (interleaved, so a change in the machine's load falls on all of them alike). Prints, per
command, the median wall-clock time and the median CPU time (user + system of the process), the
latter unaffected by other work on a shared machine.

    bench/lint/timing.py RUNS LABEL 'COMMAND' [LABEL 'COMMAND' ...]

Output lines: "LABEL WALL_MS CPU_MS". A command's exit status is ignored (linters exit 1 when
they find something).
"""
import os
import resource
import statistics
import subprocess
import sys
import time


def run_once(command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


def main():
    runs = int(sys.argv[1])
    pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
    samples = {label: [] for label, _ in pairs}
    for _, command in pairs:
        run_once(command)
    for _ in range(runs):
        for label, command in pairs:
            samples[label].append(run_once(command))
    for label, _ in pairs:
        wall = statistics.median(s[0] for s in samples[label])
        cpu = statistics.median(s[1] for s in samples[label])
        print(f"{label} {wall:.1f} {cpu:.1f}")


if __name__ == "__main__":
    os.environ.setdefault("LC_ALL", "C")
    main()
