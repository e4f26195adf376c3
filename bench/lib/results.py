#!/usr/bin/env python3
"""The one result shape of the benchmarks under bench/ (Python standard library only).

Every bench/NAME.sh writes bench/results/NAME.json: a list of rows
    {"measure", "value" (number or null), "unit", "target", "met" (true/false/null), "command"}
where `met` is computed from the target: "≥ 2000", "≤ 100", "> x", "< x", "= 0" or a bare
number (equality); "-" or anything else gives null (no target). Metadata a script wants to keep
(binary, durations...) goes into bench/results/NAME.meta.json.

    results.py write NAME ROWS.tsv --command CMD [--meta KEY=VALUE ...]
        ROWS.tsv: measure<TAB>value<TAB>unit<TAB>target[<TAB>command]; a row's own command wins
        over --command. Writes NAME.json (and NAME.meta.json) and prints the table.
    results.py combine --out all.json [--failed NAME ...] [--earlier NAME ...] NAME ...
        Prints one table of the named results (and of the --earlier ones, results left by an
        earlier run, marked so) and writes all.json with git commit, time and machine.
    results.py table FILE.json
        Prints the table of one result file.
    results.py selftest
        Checks the target parsing and draws a chart of made-up rows (for ./scripts/test).
"""

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results")
FIELDS = ["measure", "value", "unit", "target", "met", "command"]
TARGET = re.compile(r"^\s*(≥|>=|≤|<=|>|<|=|==)?\s*([-+]?[0-9][0-9,_]*(?:\.[0-9]+)?)\s*(%?)\s*$")


def parse_value(text):
    """A number, or None for n/a, empty, nan."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        number = float(text)
    else:
        try:
            number = float(str(text).strip().replace(",", ""))
        except ValueError:
            return None
    if math.isnan(number) or math.isinf(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 1e15 else number


def parse_target(target):
    """(operator, bound) of a target string, or None when the row has no target."""
    match = TARGET.match(str(target or ""))
    if not match:
        return None
    op = {"≥": ">=", ">=": ">=", "≤": "<=", "<=": "<=", ">": ">", "<": "<", "=": "==", "==": "==", None: "=="}[match.group(1)]
    return op, float(match.group(2).replace(",", "").replace("_", ""))


def met(value, target):
    parsed = parse_target(target)
    if parsed is None or value is None:
        return None
    op, bound = parsed
    return {">=": value >= bound, "<=": value <= bound, ">": value > bound, "<": value < bound,
            "==": abs(value - bound) <= 1e-9 * max(1.0, abs(bound))}[op]


def make_row(measure, value, unit, target, command):
    value = parse_value(value)
    target = (target or "-").strip() or "-"
    return {"measure": measure, "value": value, "unit": unit, "target": target,
            "met": met(value, target), "command": command}


def read_tsv(path, command):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if "\t" not in line:
                continue
            parts = line.split("\t")
            parts += [""] * (5 - len(parts))
            measure, value, unit, target, own = parts[:5]
            rows.append(make_row(measure, value, unit, target, own or command))
    return rows


def fmt_value(value):
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    a = abs(value)
    return "%.0f" % value if a >= 100 else "%.2f" % value if a >= 1 else "%.3f" % value


def fmt_met(m):
    return "yes" if m is True else "NO" if m is False else "-"


def print_table(rows, with_benchmark=False, out=sys.stdout):
    header = (["benchmark"] if with_benchmark else []) + FIELDS
    table = [header]
    for r in rows:
        cells = [r.get("benchmark", "")] if with_benchmark else []
        cells += [r["measure"], fmt_value(r["value"]), r["unit"], r["target"], fmt_met(r["met"]), r["command"]]
        table.append(cells)
    widths = [max(len(t[i]) for t in table) for i in range(len(header))]
    right = {header.index("value")}
    for n, t in enumerate(table):
        cells = [c.rjust(w) if i in right and n else c.ljust(w) for i, (c, w) in enumerate(zip(t, widths))]
        print(" | ".join(cells).rstrip(), file=out)
        if n == 0:
            print("-|-".join("-" * w for w in widths), file=out)


def git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None


def machine():
    info = {"cpus": os.cpu_count(), "kernel": platform.release(), "arch": platform.machine(),
            "hostname": platform.node()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory_mb"] = int(line.split()[1]) // 1024
                    break
    except OSError:
        pass
    return info


def write_json(path, doc):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")


def load_rows(name):
    path = name if name.endswith(".json") else os.path.join(RESULTS, name + ".json")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if isinstance(doc, dict):  # an older {benchmark, results: [...]} file
        doc = doc.get("results", [])
    rows = []
    for r in doc:
        row = make_row(r.get("measure", ""), r.get("value"), r.get("unit", ""), r.get("target", "-"),
                       r.get("command", ""))
        rows.append(row)
    return rows


def cmd_write(args):
    rows = read_tsv(args.rows, args.command)
    write_json(os.path.join(RESULTS, args.name + ".json"), rows)
    meta = dict(kv.split("=", 1) for kv in args.meta or [])
    if meta:
        meta.update({"benchmark": args.name, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "git_commit": git("rev-parse", "HEAD"), "machine": machine()})
        write_json(os.path.join(RESULTS, args.name + ".meta.json"), meta)
    print_table(rows)
    print(f"\n({len(rows)} rows written to bench/results/{args.name}.json)")


def cmd_combine(args):
    benchmarks = {}
    flat = []
    earlier = set(args.earlier or [])
    for name in list(args.names) + [n for n in args.earlier or [] if n not in args.names]:
        try:
            rows = load_rows(name)
        except (OSError, ValueError) as error:
            print(f"results.py: no results for {name}: {error}", file=sys.stderr)
            continue
        benchmarks[name] = rows
        label = name + " (earlier run)" if name in earlier else name
        flat += [dict(r, benchmark=label) for r in rows]
    print_table(flat, with_benchmark=True)
    if earlier & set(benchmarks):
        print(f"\n(from an earlier run, not run now: {', '.join(sorted(earlier & set(benchmarks)))})")
    missed = [r for r in flat if r["met"] is False]
    with_target = [r for r in flat if r["met"] is not None]
    print(f"\n{len(flat)} measures; {len(with_target)} with a target: "
          f"{len(with_target) - len(missed)} met, {len(missed)} missed")
    status = git("status", "--porcelain", "--untracked-files=no")
    doc = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "machine": machine(),
        "failed": args.failed or [],
        "earlier": sorted(earlier),
        "benchmarks": benchmarks,
    }
    write_json(args.out, doc)
    print(f"(written to {os.path.relpath(args.out)})")


def _no_zero_for_not_applicable():
    """A row that is not applicable must carry no value (null), never 0: 0 is a measurement. The
    benchmark scripts and the Swift benchmark code may not write a literal 0 on a line that says
    the figure is n/a."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    zero_row = re.compile(r"n/a[^\n]*\\t0(?:\.0+)?\\t|n/a[^\n]*, 0(?:\.0)?, \"")
    files = [os.path.join(root, "bench", f) for f in os.listdir(os.path.join(root, "bench")) if f.endswith((".sh", ".py"))]
    for src in ("Sources/BenchSupport", "Sources/HubBench", "Sources/EdXMLBench", "Sources/SignBench"):
        folder = os.path.join(root, src)
        files += [os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".swift")] if os.path.isdir(folder) else []
    offenders = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if zero_row.search(line):
                    offenders.append(f"{os.path.relpath(path, root)}:{number}: {line.strip()}")
    assert not offenders, "a not-applicable figure written as 0:\n" + "\n".join(offenders)
    # And the reading side: every spelling of "no value" becomes null.
    for text in ("n/a", "", "nan", "-", None):
        assert parse_value(text) is None, text


def selftest():
    cases = [("221", "≥ 2000", False), ("2100", "≥ 2000", True), ("45.2", "≤ 100", True), ("128", "≤ 100", False),
             ("0", "= 0", True), ("0.000", "0", True), ("3", "0", False), ("1.26", ">= 0.6", True),
             ("1000000", "≥ 1,000,000", True), ("9.8", "-", None), ("n/a", "≥ 1", None), ("nan", "≤ 2", None),
             ("5", "< 5", False), ("5", "> 4", True)]
    for value, target, expected in cases:
        row = make_row("m", value, "u", target, "c")
        assert row["met"] is expected, (value, target, row)
    assert make_row("m", "n/a", "u", "", "c")["value"] is None
    assert make_row("m", "", "u", "≥ 1", "c")["value"] is None and make_row("m", "", "u", "≥ 1", "c")["met"] is None
    _no_zero_for_not_applicable()
    assert make_row("m", "12.0", "u", "", "c")["value"] == 12
    import tempfile
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import chart
    doc = {"time": "t", "git_commit": "0" * 40, "machine": machine(),
           "benchmarks": {"x": [make_row("rate", v, "msg/s", t, "c") for v, t, _ in cases]}}
    svg = chart.draw(doc)
    import xml.etree.ElementTree as ET
    ET.fromstring(svg)
    assert svg.count("<rect ") >= 10, svg
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "rows.tsv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("a\t1\tu\t≥ 2\nb\tn/a\tu\t-\town command\nnot a row\n")
        rows = read_tsv(path, "default")
        assert [r["met"] for r in rows] == [False, None] and rows[1]["command"] == "own command", rows
    print("results.py selftest: ok")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("name")
    w.add_argument("rows")
    w.add_argument("--command", default="")
    w.add_argument("--meta", action="append")
    c = sub.add_parser("combine")
    c.add_argument("--out", required=True)
    c.add_argument("--failed", action="append")
    c.add_argument("--earlier", action="append", help="a benchmark not run now whose last results are included")
    c.add_argument("names", nargs="+")
    t = sub.add_parser("table")
    t.add_argument("file")
    sub.add_parser("selftest")
    args = parser.parse_args()
    if args.cmd == "selftest":
        selftest()
    elif args.cmd == "write":
        cmd_write(args)
    elif args.cmd == "combine":
        cmd_combine(args)
    else:
        print_table(load_rows(args.file))


if __name__ == "__main__":
    main()
