#!/usr/bin/env python3
"""Counts what schemathesis sent and got, from its NDJSON report.

Usage: summary.py REPORT.ndjson MIN_REQUESTS
Exits 1 when fewer than MIN_REQUESTS requests were made or any answer was a 5xx (or none came).
"""

import collections
import json
import sys


def main() -> int:
    path, minimum = sys.argv[1], int(sys.argv[2])
    classes, operations, missing = collections.Counter(), collections.Counter(), 0
    server_errors = []
    with open(path, encoding="utf-8") as report:
        for line in report:
            if not line.strip():
                continue
            finished = json.loads(line).get("ScenarioFinished")
            if not finished:
                continue
            for interaction in finished["recorder"].get("interactions", {}).values():
                request, response = interaction["request"], interaction.get("response")
                operations[request["uri"].split("/api/v1/", 1)[-1].split("?")[0]] += 1
                if response is None:
                    missing += 1
                    continue
                status = response["status_code"]
                classes[f"{status // 100}xx"] += 1
                if status >= 500:
                    server_errors.append(f"{status} {request['method']} {request['uri']}")
    total = sum(operations.values())
    print(f"fuzz: {total} requests over {len(operations)} operations; "
          f"{dict(sorted(classes.items()))}; {missing} without an answer")
    print(f"fuzz: fewest requests to one operation: {min(operations.values(), default=0)}")
    for line in server_errors[:20]:
        print(f"fuzz: server error: {line}")
    if total < minimum or server_errors or missing:
        print(f"fuzz: failed (need >= {minimum} requests, no 5xx, every request answered)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
