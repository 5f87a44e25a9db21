"""`make bench`: every benchmark in one run, each writing its JSON under bench/results/."""

from __future__ import annotations

import sys

from bench import coldstart, gateway, limiter, orders


def main() -> int:
    for name, run in (
        ("gateway", gateway.main),
        ("orders", orders.main),
        ("coldstart", coldstart.main),
        ("limiter", limiter.main),
    ):
        print(f"\n## {name}\n", flush=True)
        status = run([])
        if status:
            return int(status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
