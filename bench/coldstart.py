"""Cold start per entry point: process start to first 200 under functions-framework, and import time.

Run: `.venv/bin/python -m bench.coldstart [--repeat N]`. Each repetition spawns a fresh
`functions-framework --target=X --source=main.py` process and sends the entry point's real request
every few milliseconds until the first 200, so the time includes interpreter start, imports, the
framework, and the lazy build of the gateway on the first request. Our sources are compiled first, as
Google's Python buildpack compiles the uploaded tree at build time, so the runs import bytecode as a
deployed instance does. The import time of main.py is measured in fresh interpreters (`import main` timed
in-process, and `-X importtime`), compiled and, when no bytecode was there before, uncompiled too.
Writes bench/results/coldstart.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.setup import DEV_TOKEN, SANDBOX_HEADERS, emulator, gateway_env, market_sandbox
from infra.stack import ROOT, free_port, function_command

RESULTS = Path(__file__).resolve().parent / "results"
SOURCES = ("main.py", "shared", "functions")  # what .gcloudignore uploads, less requirements.txt


FLOOR = "floor"  # bench/floor.py: a trivial function importing the same libraries
POLL_SECONDS = 0.005
DEADLINE_SECONDS = 60.0
RETRYABLE = frozenset({429, 503})
# Trust overrides of the benchmark host's own (this development machine sets SSL_CERT_FILE for its
# tools): a deployment sets neither, and with SSL_CERT_FILE set the outbound client would parse that
# bundle whole on its first request where a deployment reads the hashed directory (see shared/http.py).
HOST_TLS = ("SSL_CERT_FILE", "SSL_CERT_DIR")
WITH_HOST_TLS = " (host TLS)"  # a series run with them passed on, beside the same entry point without
PUBLIC = (  # the nine entry points of the seed's API
    "get_account",
    "list_positions",
    "close_position",
    "list_orders",
    "place_order",
    "cancel_order",
    "list_trades",
    "get_clock",
    "get_config",
)

# (target, method, path builder from the prepared resource id, JSON body)
Request = tuple[str, str, dict[str, Any] | None]


@dataclass
class Start:
    target: str
    first_200_ms: float  # process start to the first 200
    listening_ms: float  # process start to the first accepted connection
    first_request_ms: float  # duration of the first request the process answered
    first_status: int  # the status of that first answer (a cold instance may refuse it)


@dataclass
class Summary:
    target: str
    runs: int
    median_first_200_ms: float
    min_first_200_ms: float
    max_first_200_ms: float
    median_listening_ms: float
    median_first_request_ms: float
    first_answer_not_200: int  # runs whose first answer was a 429/503 rather than the 200


class Prep:
    """Creates what an entry point's happy path needs, directly on the sandbox."""

    def __init__(self, sandbox_url: str) -> None:
        self.http = httpx.Client(base_url=sandbox_url, headers=SANDBOX_HEADERS, timeout=10.0)

    def order(self, **extra: Any) -> str:
        body = {
            "symbol": "AAPL",
            "qty": "1",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            **extra,
        }
        response = self.http.post("/v2/orders", json=body)
        response.raise_for_status()
        return str(response.json()["id"])

    def request_for(self, target: str) -> Request:
        if target == "close_position":
            self.order()
            return ("POST", "/api/alpaca/positions/AAPL/close", None)
        if target == "cancel_order":
            order_id = self.order(type="limit", limit_price="0.50")
            return ("DELETE", f"/api/alpaca/orders/{order_id}", None)
        if target == "place_order":
            return ("POST", "/", {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market"})
        return ("GET", "/", None)


def deployed_environ() -> dict[str, str]:
    """This process's environment as a deployed function would see it: without the host's TLS trust."""
    return {name: value for name, value in os.environ.items() if name not in HOST_TLS}


def host_tls() -> dict[str, str]:
    """The host's TLS trust variables, for a series that passes them on."""
    return {name: os.environ[name] for name in HOST_TLS if name in os.environ}


def cold_start(
    target: str, env: dict[str, str], request: Request, series: str | None = None, tree: Path = ROOT
) -> Start:
    """One fresh process serving `target` from `tree`'s main.py (the floor from bench/floor.py)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    method, path, body = request
    source = ROOT / "bench" / "floor.py" if target == FLOOR else tree / "main.py"
    began = time.perf_counter()
    process = subprocess.Popen(
        function_command(target, port, source),
        cwd=source.parent,
        env={**deployed_environ(), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    listening: float | None = None
    first_status, first_ms = 0, 0.0
    last = "none"
    try:
        with httpx.Client(timeout=30.0, headers={"Authorization": f"Bearer {DEV_TOKEN}"}) as client:
            while time.perf_counter() - began < DEADLINE_SECONDS:
                if process.poll() is not None:
                    raise RuntimeError(f"{target} exited with {process.returncode}")
                sent = time.perf_counter()
                try:
                    response = client.request(method, url + path, json=body)
                except httpx.TransportError:
                    time.sleep(POLL_SECONDS)
                    continue
                done = time.perf_counter()
                if listening is None:
                    listening, first_status, first_ms = sent, response.status_code, (done - sent) * 1000
                if response.status_code == 200:
                    return Start(
                        series or target,
                        round((done - began) * 1000, 1),
                        round((listening - began) * 1000, 1),
                        round(first_ms, 1),
                        first_status,
                    )
                last = f"{response.status_code}: {response.text[:300]}"
                if response.status_code not in RETRYABLE:
                    raise RuntimeError(f"{target} answered {response.status_code}: {response.text[:300]}")
                time.sleep(POLL_SECONDS)  # a cold instance may refuse its first request: count it, retry
        raise RuntimeError(f"{target} gave no 200 within {DEADLINE_SECONDS}s; last answer {last}")
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _bytecode() -> set[Path]:
    found = {path for source in SOURCES[1:] for path in (ROOT / source).rglob("__pycache__")}
    found |= {ROOT / "__pycache__"} if (ROOT / "__pycache__").is_dir() else set()
    return found | {file for folder in found for file in folder.glob("*.pyc")}


def tree_at(revision: str, stack: ExitStack) -> Path:
    """main.py, shared/ and functions/ as they were at `revision` (git), compiled, in a directory removed
    with `stack`."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coldstart-")))
    archive = subprocess.run(
        ["git", "archive", revision, *SOURCES], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    compileall.compile_dir(folder, force=True, quiet=1)
    return folder


@contextmanager
def compiled_sources() -> Iterator[None]:
    """Our sources compiled in place as the buildpack does (`python3 -m compileall -f -q .`), with the same
    interpreter; the bytecode this adds is removed on the way out, so a developer's tree is left as it was."""
    before = _bytecode()
    try:
        for source in SOURCES:
            path = ROOT / source
            if path.is_dir():
                compileall.compile_dir(path, force=True, quiet=1)
            else:
                compileall.compile_file(path, force=True, quiet=1)
        yield
    finally:
        added = _bytecode() - before
        for file in added:
            if file.suffix == ".pyc":
                file.unlink(missing_ok=True)
        for folder in added:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def fresh_python(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )


def import_times(repeat: int) -> dict[str, Any]:
    """`import main` in fresh interpreters, a bare interpreter start, and -X importtime's top modules."""
    timed = "import time; t = time.perf_counter(); import main; print(time.perf_counter() - t)"
    wall = [float(fresh_python(timed).stdout) * 1000 for _ in range(repeat)]
    bare: list[float] = []
    for _ in range(repeat):
        began = time.perf_counter()
        fresh_python("pass")
        bare.append((time.perf_counter() - began) * 1000)
    trace = fresh_python("import main", "-X", "importtime").stderr
    main_us = 0
    by_package: dict[str, int] = {}  # self time grouped by distribution-like package
    for line in trace.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if not match:
            continue
        name = match[3]
        if name == "main":
            main_us = int(match[2])
        parts = name.split(".")
        package = ".".join(parts[:3] if parts[0] == "google" else parts[:1])
        by_package[package] = by_package.get(package, 0) + int(match[1])
    heaviest = sorted(by_package.items(), key=lambda kv: kv[1], reverse=True)[:10]
    return {
        "import_main_ms_median": round(statistics.median(wall), 1),
        "import_main_ms_runs": [round(x, 1) for x in wall],
        "interpreter_start_ms_median": round(statistics.median(bare), 1),
        "importtime_main_cumulative_ms": round(main_us / 1000, 1),
        "heaviest_packages_self_ms": {name: round(us / 1000, 1) for name, us in heaviest},
    }


def summarize(starts: list[Start]) -> Summary:
    first = [s.first_200_ms for s in starts]
    return Summary(
        starts[0].target,
        len(starts),
        round(statistics.median(first), 1),
        min(first),
        max(first),
        round(statistics.median(s.listening_ms for s in starts), 1),
        round(statistics.median(s.first_request_ms for s in starts), 1),
        sum(1 for s in starts if s.first_status != 200),
    )


def tables(summaries: list[Summary], imports: dict[str, Any], uncompiled: dict[str, Any] | None) -> str:
    rows = [
        "| entry point | runs | first 200 median ms | min / max ms | listening median ms "
        "| first request median ms | first answer not 200 |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    rows += [
        f"| {s.target} | {s.runs} | {s.median_first_200_ms} | {s.min_first_200_ms} / {s.max_first_200_ms} "
        f"| {s.median_listening_ms} | {s.median_first_request_ms} | {s.first_answer_not_200} |"
        for s in summaries
    ]
    rows += [
        "",
        "| import of main.py | ms |",
        "|---|---:|",
        f"| `import main` in a fresh interpreter (median) | {imports['import_main_ms_median']} |",
        *(
            [f"| the same, our sources uncompiled (median) | {uncompiled['import_main_ms_median']} |"]
            if uncompiled
            else []
        ),
        f"| `-X importtime` cumulative for main | {imports['importtime_main_cumulative_ms']} |",
        f"| bare interpreter start (`python -c pass`, median) | {imports['interpreter_start_ms_median']} |",
    ]
    rows += [
        f"| of which package `{n}` (self time) | {ms} |"
        for n, ms in imports["heaviest_packages_self_ms"].items()
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--targets", nargs="*", default=list(PUBLIC))
    parser.add_argument(
        "--host-tls",
        nargs="*",
        default=[],
        metavar="TARGET",
        help="also run these entry points with the host's SSL_CERT_FILE and SSL_CERT_DIR passed on",
    )
    parser.add_argument(
        "--against",
        metavar="REVISION",
        help="also run every entry point from the sources at this git revision, side by side",
    )
    args = parser.parse_args(argv)
    args.targets = [FLOOR, *[t for t in args.targets if t != FLOOR]]

    began = time.time()
    with ExitStack() as stack:
        sandbox = market_sandbox(stack, aapl_price="10.00")
        prep = Prep(sandbox.url)
        stack.callback(prep.http.close)
        env = gateway_env(sandbox.url, emulator(stack))
        # Without bytecode of ours yet, the uncompiled import is measurable too (this machine sets
        # PYTHONDONTWRITEBYTECODE, so a developer's runs compile our sources on every start).
        uncompiled = None if _bytecode() else import_times(args.repeat)
        stack.enter_context(compiled_sources())
        series = [(t, t, env, ROOT) for t in args.targets]
        series += [(t + WITH_HOST_TLS, t, {**env, **host_tls()}, ROOT) for t in args.host_tls]
        if args.against:
            then = tree_at(args.against, stack)
            series += [(f"{t} at {args.against}", t, env, then) for t in args.targets if t != FLOOR]
        runs: dict[str, list[Start]] = {name: [] for name, _, _, _ in series}
        for _ in range(args.repeat):  # round-robin, so drift spreads over every entry point
            for name, target, variables, tree in series:
                runs[name].append(cold_start(target, variables, prep.request_for(target), name, tree))
        summaries = [summarize(runs[name]) for name in runs]
        imports = import_times(args.repeat)

    result = {
        "benchmark": "coldstart",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(began)),
        "seconds": round(time.time() - began, 1),
        "method": "as deployed: main.py, shared/ and functions/ compiled first as Google's Python buildpack "
        "does at build time (compileall, in place; the bytecode added is removed after the run); then a "
        "fresh functions-framework process per run, polled every 5 ms with the entry point's real request "
        "until the first 200 (includes the lazy gateway build on the first request; a 429/503 first answer "
        "is counted and polled through); the host's own SSL_CERT_FILE and SSL_CERT_DIR are not passed on, as "
        "a deployment has neither",
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "entry_points": [asdict(s) for s in summaries],
        "over_floor": {
            s.target: round(s.median_first_200_ms / summaries[0].median_first_200_ms, 2)
            for s in summaries[1:]
        },
        "runs": {t: [asdict(s) for s in starts] for t, starts in runs.items()},
        "imports": imports,
        "imports_uncompiled": uncompiled,  # null when bytecode of ours was there before the run
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "coldstart.json").write_text(json.dumps(result, indent=2) + "\n")
    print(tables(summaries, imports, uncompiled))
    print("\n| entry point | first 200 / floor (medians) |\n|---|---:|")
    for name, ratio in result["over_floor"].items():
        print(f"| {name} | {ratio}x |")
    print(f"\nwritten to {RESULTS / 'coldstart.json'} ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
