#!/usr/bin/env python3
"""Scores zerodown lint and squawk on the labelled corpus (tests/lint/corpus, format in its
README): recall and precision of "flagged" against each case's `verdict`, side by side.

    bench/lint/score.py ZERODOWN SQUAWK [CORPUS_DIR]      (VERBOSE=1 lists every miss)

A case counts as flagged when the tool reports, in the case's file, a finding of severity
warning or error from any rule other than the lock_timeout reminder (zerodown's
require-lock-timeout). Both tools lint schema.sql and then the case, at the case's pg-version.
squawk is scored twice: with its defaults, and with its timeout and robustness rules off (the
rules that fire on nearly every file), which is how a reviewer who tuned it would run it.
"""
import os
import re
import subprocess
import sys

SQUAWK_NOISE = ["require-lock-timeout", "require-statement-timeout", "require-timeout-settings",
                "prefer-robust-stmts"]


def load_cases(corpus):
    cases = []
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".sql") or name == "schema.sql":
            continue
        path = os.path.join(corpus, name)
        with open(path) as f:
            header = dict(re.findall(r"^-- ([a-z-]+): (.*)$", f.read(), re.M))
        cases.append((name, path, header["verdict"] == "dangerous", int(header["pg-version"])))
    return cases


# One finding per line: "path:line:col: severity rule-id..." (zerodown text, squawk gcc).
FINDING = re.compile(r"^(?P<path>[^ :]+):\d+:\d+: (?P<severity>error|warning|info):? (?P<rule>[a-z0-9-]+)")


def flagged(output, case_path):
    for line in output.splitlines():
        m = FINDING.match(line)
        if not m or os.path.basename(m["path"]) != os.path.basename(case_path):
            continue
        if m["severity"] in ("error", "warning") and m["rule"] != "require-lock-timeout":
            return True
    return False


def run(command):
    return subprocess.run(command, capture_output=True, text=True).stdout


def zerodown_flags(binary, schema, case, version):
    return flagged(run([binary, "lint", "--pg-version", str(version), schema, case]), case)


def squawk_flags(binary, schema, case, version, exclude):
    command = [binary, "--reporter", "gcc", f"--pg-version={version}.0"]
    if exclude:
        command.append("--exclude=" + ",".join(exclude))
    return flagged(run(command + [schema, case]), case)


def score(label, cases, flags):
    tp = fp = fn = tn = 0
    misses = []
    for (name, path, dangerous, version) in cases:
        hit = flags(path, version)
        tp += dangerous and hit
        fn += dangerous and not hit
        fp += hit and not dangerous
        tn += not hit and not dangerous
        if hit != dangerous:
            misses.append(("missed " if dangerous else "false alarm ") + name)
    recall = tp / (tp + fn) if tp + fn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    print(f"  {label:<46} {recall:6.2f} {precision:9.2f}   {tp:3d} {fp:3d} {fn:3d} {tn:3d}")
    if os.environ.get("VERBOSE"):
        for miss in misses:
            print(f"      {miss}")


def main():
    zerodown, squawk = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    corpus = sys.argv[3] if len(sys.argv) > 3 else os.path.join(root, "tests", "lint", "corpus")
    schema = os.path.join(corpus, "schema.sql")
    cases = load_cases(corpus)
    dangerous = sum(1 for c in cases if c[2])
    print(f"corpus: {len(cases)} cases ({dangerous} dangerous, {len(cases) - dangerous} safe), "
          "flagged = a warning or error other than the lock_timeout reminder")
    print(f"  {'':<46} {'recall':>6} {'precision':>9}    TP  FP  FN  TN")
    score("zerodown lint", cases, lambda p, v: zerodown_flags(zerodown, schema, p, v))
    score("squawk, defaults", cases, lambda p, v: squawk_flags(squawk, schema, p, v, []))
    score("squawk, timeout and robustness rules off", cases,
          lambda p, v: squawk_flags(squawk, schema, p, v, SQUAWK_NOISE))


if __name__ == "__main__":
    main()
