#!/usr/bin/env python3
"""One summary line from a Schemathesis JSON report (tests/api/fuzz.sh).

    summary.py REPORT_DIR MODE EXIT_CODE

Prints `api-fuzz[MODE]: operations=N examples=M failures=F errors=E (exit X)`, then per
operation the statuses seen (REPORT_DIR/statuses.txt, written by hooks.py) and per failure group
one indented line. Standard library only.
"""

import glob
import json
import os
import sys


def main() -> int:
    directory, mode, exit_code = sys.argv[1], sys.argv[2], int(sys.argv[3])
    reports = sorted(glob.glob(os.path.join(directory, "*.json")), key=os.path.getmtime)
    reports = [r for r in reports if not r.endswith(".ndjson")]
    if not reports:
        print(f"api-fuzz[{mode}]: operations=0 examples=0 failures=1 errors=0 (exit {exit_code}, no JSON report)")
        return 1
    with open(reports[-1], encoding="utf-8") as handle:
        report = json.load(handle)
    operations = report.get("operations", {})
    cases = report.get("test_cases", {})
    failures = report.get("failures", [])
    errors = report.get("errors", [])
    failure_count = sum(int(group.get("count", 1)) for group in failures)
    error_count = sum(int(group.get("count", 1)) for group in errors)
    tested = operations.get("tested", 0)
    total = operations.get("total", 0)
    print(
        f"api-fuzz[{mode}]: operations={tested} examples={cases.get('generated', 0)} "
        f"failures={failure_count + error_count} errors={error_count} "
        f"(of {total} operations; exit {exit_code})"
    )
    stats = os.path.join(directory, "statuses.txt")
    if os.path.exists(stats):
        seen = {}
        with open(stats, encoding="utf-8") as handle:
            for line in handle:
                method, path, status = line.split()
                seen.setdefault(f"{method} {path}", {}).setdefault(status, 0)
                seen[f"{method} {path}"][status] += 1
        other = {}
        for operation in sorted(seen, key=lambda op: op.split()[1] + " " + op.split()[0]):
            if operation.startswith("OTHER "):
                for status, n in seen[operation].items():
                    other[status] = other.get(status, 0) + n
                continue
            counts = " ".join(f"{status}×{n}" for status, n in sorted(seen[operation].items()))
            print(f"    {operation}: {counts}")
        if other:
            counts = " ".join(f"{status}×{n}" for status, n in sorted(other.items()))
            print(f"    (methods the paths do not have): {counts}")
    for group in failures:
        ops = ", ".join(group.get("operations", [])[:4])
        print(f"    failure: {group.get('code')} — {group.get('title')} ×{group.get('count')} [{ops}]")
    for group in errors:
        print(f"    error: {group.get('title')} ×{group.get('count')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
