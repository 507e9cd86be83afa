#!/usr/bin/env python3
"""Line coverage of the server code from `cargo llvm-cov report --json --summary-only`.

Usage: coverage_summary.py REPORT.json FLOOR_PERCENT

Prints covered/total lines for `app/src/server/` and `server/src/` (each and together) and the
ten least-covered files there, then exits 1 when the two together fall below the floor.
"""

import json
import sys

PARTS = ("app/src/server/", "server/src/")


def main() -> int:
    report_path, floor = sys.argv[1], float(sys.argv[2])
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    files = [f for d in report["data"] for f in d["files"]]
    totals = {part: [0, 0] for part in PARTS}
    rows = []
    for f in files:
        name = f["filename"]
        for part in PARTS:
            marker = "/" + part
            if marker in name:
                lines = f["summary"]["lines"]
                totals[part][0] += lines["covered"]
                totals[part][1] += lines["count"]
                rows.append((lines["percent"], lines["count"], name.split(marker, 1)[1], part))
    if not rows:
        print("coverage: no server files in the report", file=sys.stderr)
        return 1
    covered = sum(c for c, _ in totals.values())
    count = sum(n for _, n in totals.values())
    for part, (c, n) in totals.items():
        print(f"coverage {part:<16} {c:>6}/{n:<6} lines  {100.0 * c / max(n, 1):5.1f} %")
    overall = 100.0 * covered / max(count, 1)
    print(f"coverage {'together':<16} {covered:>6}/{count:<6} lines  {overall:5.1f} %  (floor {floor} %)")
    print("least covered (lines, %):")
    for percent, n, name, part in sorted(rows)[:10]:
        print(f"  {percent:5.1f} %  {n:>5}  {part}{name}")
    if overall < floor:
        print(f"coverage {overall:.1f} % is below the floor of {floor} %", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
