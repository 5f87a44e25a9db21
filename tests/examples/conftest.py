"""`make run` as a user starts it (`python -m infra.run`), with distinctive secrets, for the examples and
the log audit; the session's emulator stands in for the one it would start."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.make_run import LocalRun, make_run

SECRETS = {
    "ALPACA_API_KEY": "PKDISTINCTIVEKEY7731",
    "ALPACA_SECRET_KEY": "distinctive-alpaca-secret-5521",
    "GATEWAY_DEV_TOKEN": "distinctive-dev-token-9043",
}
TV_TOKEN = "distinctive-tradingview-token-3318"
SIGNING_SECRET = "distinctive-signing-secret-6607-abcdef"
CALLERS = [
    {"name": "tv", "scopes": ["trade"], "token_sha256": hashlib.sha256(TV_TOKEN.encode()).hexdigest()},
    {"name": "bot", "scopes": ["read", "trade"], "signing_secret": SIGNING_SECRET},
]


@dataclass
class Stack(LocalRun):
    logs: Path = Path()
    sent_signatures: list[str] = field(default_factory=list)

    def secrets(self) -> list[str]:
        return [*SECRETS.values(), TV_TOKEN, SIGNING_SECRET, *self.sent_signatures]

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.rglob("*")) if p.is_file())


@pytest.fixture(scope="package")
def stack(firestore_emulator: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("make-run")
    env = {
        **SECRETS,
        "FIRESTORE_EMULATOR_HOST": firestore_emulator,
        "GOOGLE_CLOUD_PROJECT": f"test-{uuid.uuid4().hex[:12]}",
        "GATEWAY_CALLERS": json.dumps(CALLERS),
    }
    run = make_run(env, logs)
    service, sandbox = run.service, run.sandbox
    # Inside a regular session, so market orders fill.
    httpx.put(
        f"{sandbox}/_sandbox/clock", json={"now": "2026-11-17T15:00:00Z", "frozen": True}
    ).raise_for_status()
    try:
        yield Stack(service, run.gateway, sandbox, logs)
    finally:
        service.stop()
