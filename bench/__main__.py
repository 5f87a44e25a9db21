"""`make bench`: every benchmark in one run, each writing its JSON under bench/results/.

`python -m bench --quick` is the development run (compressed windows, fewer requests, a few minutes);
without it the bursts and one saturation run use the real budget and window (190 per 60 s), the
latter at one and two limiter shards."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from bench import burst, coldstart, gateway, limiter, orders

REAL_WINDOW = [
    "--limit", "190", "--upstream", "200", "--window", "60", "--windows", "2", "--guard", "0.25",
    "--processes", "16", "--shards", "1,2",
    "--results", str(Path(__file__).resolve().parent / "results" / "limiter-real.json"),
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    flag = ["--quick"] if quick else []
    runs: list[tuple[str, Callable[[list[str]], int], list[str]]] = [
        ("gateway", gateway.main, flag),
        ("orders", orders.main, flag),
        ("burst", burst.main, flag),
        ("coldstart", coldstart.main, ["--repeat", "3"] if quick else ["--repeat", "7"]),
        ("limiter", limiter.main, flag),
    ]
    if not quick:
        runs.append(("limiter at the real window", limiter.main, REAL_WINDOW))
    for name, run, args in runs:
        print(f"\n## {name}\n", flush=True)
        status = run(args)
        if status:
            return int(status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
