"""Contract fixtures: the local gateway server, a real process, on a sandbox frozen in trading hours."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from infra.stack import Service, answers, free_port, spawn
from tests.conftest import Sandbox, generous_sandbox
from tests.gateway.conftest import DEV_TOKEN, TRADING_NOW

BASE = "/api/alpaca"
AUTH = {"Authorization": f"Bearer {DEV_TOKEN}"}

# Hypothesis caches the constants it finds in our code under ./.hypothesis, at collection time already (its
# pytest plugin), whatever the database setting: point its storage outside the repository before that. The
# example database itself is off (database=None in the tests).
HYPOTHESIS_HOME = Path(tempfile.gettempdir()) / "execution-engine-hypothesis"
set_hypothesis_home_dir(os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or HYPOTHESIS_HOME)

# Property-based runs send hundreds of requests: only injected faults may answer 429 upstream.
sandbox_service = pytest.fixture(scope="session", name="sandbox_service")(generous_sandbox)


@pytest.fixture(scope="module")
def trading_sandbox(sandbox_service: Service) -> Iterator[Sandbox]:
    """The sandbox reset, then frozen on a Tuesday at 10:00 ET (regular hours) for the whole module."""
    box = Sandbox(sandbox_service)
    box.reset()
    box.set_clock(TRADING_NOW, frozen=True)
    try:
        yield box
    finally:
        box.admin.close()


class LocalServer:
    """The running `python -m infra.gateway_server`: its root URL and its log (for crash tracebacks)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.url = service.url
        self.api = service.url + BASE

    def log_tail(self, lines: int = 60) -> str:
        return self.service.log_tail(lines)


@pytest.fixture(scope="module")
def local_server(
    trading_sandbox: Sandbox, firestore_emulator: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServer]:
    """`python -m infra.gateway_server` pointed at the sandbox and a fresh emulator project."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "ALPACA_BASE_URL": trading_sandbox.url,
        "ALPACA_DATA_URL": trading_sandbox.url,
        "ALPACA_API_KEY": trading_sandbox.key,
        "ALPACA_SECRET_KEY": trading_sandbox.secret,
        "FIRESTORE_EMULATOR_HOST": firestore_emulator,
        "GOOGLE_CLOUD_PROJECT": f"contract-{uuid.uuid4().hex[:10]}",
        "GATEWAY_DEV_TOKEN": DEV_TOKEN,
        "RATE_LIMIT_PER_MINUTE": "100000",
    }
    log_dir: Path = tmp_path_factory.mktemp("contract-logs")
    service = spawn(
        f"gateway-{port}",
        [sys.executable, "-m", "infra.gateway_server", "--port", str(port)],
        url,
        answers(f"{url}{BASE}/clock", lambda r: r.status_code in {200, 401}),
        env=env,
        log_dir=log_dir,
    )
    try:
        warm_up(url + BASE)
        yield LocalServer(service)
    finally:
        service.stop()


def warm_up(api: str, deadline_s: float = 30.0) -> None:
    """Until a Firestore read answers 200: the first one on a cold emulator can outlast the gateway's 3 s
    timeout (a 503), which would be the emulator warming up, not the contract under test."""
    end = time.monotonic() + deadline_s
    while True:
        response = httpx.get(f"{api}/audit", params={"limit": 1}, headers=AUTH, timeout=20.0)
        if response.status_code == 200 or time.monotonic() > end:
            assert response.status_code == 200, response.text
            return
        time.sleep(0.5)


@pytest.fixture
def api(local_server: LocalServer) -> Iterator[httpx.Client]:
    """An HTTP client on the local server, authenticated with the dev token."""
    with httpx.Client(base_url=local_server.api, headers=AUTH, timeout=20.0) as client:
        yield client


@pytest.fixture(scope="module")
def served_document(local_server: LocalServer) -> dict[str, Any]:
    """The OpenAPI document as the local server serves it (no token needed)."""
    response = httpx.get(f"{local_server.api}/openapi.json", timeout=20.0)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document
