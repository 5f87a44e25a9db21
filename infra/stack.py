"""Starting and stopping the local stack's processes, each in its own process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def claim_port(port: int | None) -> int:
    """The given port if nothing listens on it yet (a free one when None), so a stale process is never
    mistaken for the one we start."""
    if port is None:
        return free_port()
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is already in use: stop what listens there first")
    return port


@dataclass
class Service:
    """A child process group that answers on `url` once ready."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path | None = field(default=None)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def spawn(
    name: str,
    args: list[str],
    url: str,
    ready: Callable[[], bool],
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
    deadline_s: float = 60.0,
) -> Service:
    log_path = (log_dir / f"{name}.log") if log_dir else None
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    service = Service(name, url, process, log_path)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}\n{service.log_tail()}")
        if ready():
            return service
        time.sleep(0.1)
    service.stop()
    raise RuntimeError(f"{name} did not become ready within {deadline_s}s\n{service.log_tail()}")


def answers(url: str, expect: Callable[[httpx.Response], bool]) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return expect(httpx.get(url, timeout=1.0))
        except httpx.HTTPError:
            return False

    return check


def start_emulator(port: int | None = None, log_dir: Path | None = None) -> Service:
    """`gcloud emulators firestore start` on 127.0.0.1; ready when `GET /` answers `Ok`."""
    port = claim_port(port)
    url = f"127.0.0.1:{port}"
    args = ["gcloud", "emulators", "firestore", "start", f"--host-port={url}", "--quiet"]
    return spawn(
        "firestore-emulator",
        args,
        url,
        answers(f"http://{url}/", lambda r: r.status_code == 200),
        log_dir=log_dir,
        deadline_s=90.0,
    )


def start_sandbox(
    port: int | None = None,
    rate_limit: int = 200,
    rate_window: float = 60.0,
    extra_args: list[str] | None = None,
    log_dir: Path | None = None,
) -> Service:
    """The sandbox broker, `python -m sandbox`, ready when its admin clock answers."""
    port = claim_port(port)
    url = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        str(port),
        "--rate-limit",
        str(rate_limit),
        "--rate-window",
        str(rate_window),
        *(extra_args or []),
    ]
    return spawn(
        f"sandbox-{port}",
        args,
        url,
        answers(f"{url}/_sandbox/clock", lambda r: r.status_code == 200),
        log_dir=log_dir,
    )


def function_command(target: str, port: int, source: Path = ROOT / "main.py") -> list[str]:
    """How Cloud Functions runs an entry point: `functions-framework --target` on `source` (main.py)."""
    framework = str(Path(sys.executable).with_name("functions-framework"))
    return [
        framework,
        f"--target={target}",
        f"--source={source}",
        "--host=127.0.0.1",
        f"--port={port}",
    ]


def start_function(
    target: str,
    env: Mapping[str, str],
    port: int | None = None,
    log_dir: Path | None = None,
) -> Service:
    """One entry point of main.py under `functions-framework --target`, as Cloud Functions runs it."""
    port = claim_port(port)
    url = f"http://127.0.0.1:{port}"
    args = function_command(target, port)
    return spawn(
        f"{target}-{port}",
        args,
        url,
        answers(f"{url}/", lambda r: r.status_code < 500),
        env=env,
        log_dir=log_dir,
    )
