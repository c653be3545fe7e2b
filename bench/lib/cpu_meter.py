#!/usr/bin/env python3
"""Runs one command and measures the CPU time it costs the PostgreSQL server and itself.

    cpu_meter.py --postmaster PID --psql PSQL --url URL [--label L] -- command ...

The server's CPU is the postmaster's children: those that ended while the command ran are in the
postmaster's cutime/cstime (it reaps them), those still alive in their own utime/stime; both are
read before and after. The command's own CPU is what it and the children it waited for used.
Meanwhile pg_stat_activity is read every 100 ms so that each backend's CPU is booked to its
application_name ("zerodown copy", "pg_repack", ...), or to its backend type for the server's own
processes (checkpointer, walwriter, autovacuum). Prints one JSON object.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    """utime, stime, cutime, cstime in seconds, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: fields start after the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    return [int(v) / TICK for v in fields[11:15]]


def children(parent):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2:].split()[1]) == parent:
            pids.append(int(entry))
    return pids


def server_cpu(postmaster):
    own = stat_fields(postmaster)
    total = own[0] + own[1] + own[2] + own[3]
    for pid in children(postmaster):
        f = stat_fields(pid)
        if f:
            total += f[0] + f[1]
    return total


class Sampler(threading.Thread):
    """Books each backend's CPU to its name, from samples every 100 ms over one psql session
    (its own backend is left out of every figure)."""

    def __init__(self, postmaster, psql, url):
        super().__init__(daemon=True)
        self.postmaster = postmaster
        self.psql = subprocess.Popen([psql, "-X", "-At", "-F", "\t", "-d", url],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.own = int(self.query("SELECT pg_backend_pid()")[0])
        self.names = {}  # pid -> name
        self.queries = {}  # pid -> what it ran at the last sample
        self.by_query = {}  # (name, query) -> cpu booked between samples
        self.first = {}  # pid -> cpu at first sight
        self.last = {}  # pid -> cpu at last sight
        self.done = threading.Event()

    def query(self, sql):
        self.psql.stdin.write(sql + ";\n\\echo __end__\n")
        self.psql.stdin.flush()
        lines = []
        for line in self.psql.stdout:
            if line.strip() == "__end__":
                return lines
            lines.append(line.rstrip("\n"))
        raise RuntimeError("psql ended")

    def own_cpu(self):
        f = stat_fields(self.own)
        return f[0] + f[1] if f else 0.0

    def names_now(self):
        rows = {}
        for line in self.query("SELECT pid, coalesce(nullif(application_name, ''), backend_type), "
                               "left(regexp_replace(query, '\\s+', ' ', 'g'), 70) "
                               "FROM pg_stat_activity"):
            pid, name, query = (line.split("\t") + ["", ""])[:3]
            if pid.isdigit():
                rows[int(pid)] = (name, query)
        return rows

    def sample(self):
        named = self.names_now()
        for pid in children(self.postmaster):
            f = stat_fields(pid)
            if not f or pid == self.own:
                continue
            cpu = f[0] + f[1]
            self.first.setdefault(pid, cpu)
            spent = cpu - self.last.get(pid, cpu)
            self.last[pid] = cpu
            # What ran since the last sample is booked to what was running at it (or now).
            key = (self.names.get(pid, "other"), self.queries.get(pid, ""))
            if spent > 0:
                self.by_query[key] = self.by_query.get(key, 0.0) + spent
            if pid in named:
                self.names[pid], self.queries[pid] = named[pid]

    def run(self):
        while not self.done.is_set():
            self.sample()
            self.done.wait(0.1)

    def booked(self):
        by_name = {}
        for pid, cpu in self.last.items():
            name = self.names.get(pid, "other")
            by_name[name] = by_name.get(name, 0.0) + cpu - self.first.get(pid, 0.0)
        return {k: round(v, 2) for k, v in sorted(by_name.items(), key=lambda kv: -kv[1])}

    def top_queries(self, n=12):
        ranked = sorted(self.by_query.items(), key=lambda kv: -kv[1])[:n]
        return [[name, query, round(cpu, 2)] for (name, query), cpu in ranked if cpu >= 0.05]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--postmaster", type=int, required=True)
    parser.add_argument("--psql", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    sampler = Sampler(args.postmaster, args.psql, args.url)
    sampler.sample()  # the server's own processes are known before the command starts
    before = server_cpu(args.postmaster) - sampler.own_cpu()
    began = time.monotonic()
    sampler.start()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sys.stderr)
    _, raw_status, tool = os.wait4(process.pid, 0)
    status = os.waitstatus_to_exitcode(raw_status)
    wall = time.monotonic() - began
    time.sleep(0.3)  # the postmaster reaps a backend that just ended a moment later
    sampler.done.set()
    sampler.join()
    sampler.sample()
    after = server_cpu(args.postmaster) - sampler.own_cpu()
    sampler.psql.stdin.close()
    sampler.psql.wait()
    print(json.dumps({
        "label": args.label,
        "exit": status,
        "wall_s": round(wall, 2),
        "server_cpu_s": round(after - before, 2),
        "tool_cpu_s": round(tool.ru_utime + tool.ru_stime, 2),
        "server_cpu_by_name": sampler.booked(),
        "server_cpu_by_query": sampler.top_queries(),
    }))
    return status


if __name__ == "__main__":
    sys.exit(main())
