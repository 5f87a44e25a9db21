"""`make run` as a user starts it, `python -m infra.run`, on free ports with its logs in one folder."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.stack import Service, answers, free_port, spawn


@dataclass
class LocalRun:
    service: Service
    gateway: str  # http://127.0.0.1:<port>
    sandbox: str

    @property
    def api(self) -> str:
        return f"{self.gateway}/api/alpaca"


def make_run(env: Mapping[str, str], logs: Path) -> LocalRun:
    """The stack's emulator is the one in `env` (FIRESTORE_EMULATOR_HOST); it starts its own sandbox."""
    gateway_port, sandbox_port = free_port(), free_port()
    args = [sys.executable, "-m", "infra.run", "--gateway-port", str(gateway_port)]
    args += ["--sandbox-port", str(sandbox_port), "--log-dir", str(logs)]
    gateway = f"http://127.0.0.1:{gateway_port}"
    ready = answers(f"{gateway}/api/alpaca/openapi.json", lambda r: r.status_code == 200)
    service = spawn("make-run", args, gateway, ready, env=dict(env), log_dir=logs, deadline_s=90.0)
    return LocalRun(service, gateway, f"http://127.0.0.1:{sandbox_port}")
