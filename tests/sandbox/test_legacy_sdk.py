"""The seed guide's calls through the older alpaca-trade-api SDK (clock, bars, assets, the breakout
bot's bracket order, positions, account), against the sandbox, from that SDK's own venv."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Sandbox

ROOT = Path(__file__).resolve().parents[2]
LEGACY_PYTHON = ROOT / ".venv-legacy" / "bin" / "python"
SESSION = Path(__file__).parent / "legacy" / "session.py"


@pytest.fixture
def session(sandbox: Sandbox) -> dict[str, Any]:
    """What the SDK parsed, from one run of the session script with the sandbox frozen in trading hours."""
    if not LEGACY_PYTHON.exists():
        pytest.fail("the alpaca-trade-api venv is missing: `make test` builds it (.venv-legacy)")
    sandbox.set_clock("2026-11-17T15:00:00Z", frozen=True)
    env = {**os.environ, "APCA_API_DATA_URL": sandbox.url}
    done = subprocess.run(
        [str(LEGACY_PYTHON), str(SESSION), sandbox.url, sandbox.key, sandbox.secret],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_legacy_sdk_reads_the_clock_bars_and_assets(session: dict[str, Any]) -> None:
    """The market is open at the frozen time; ten minute bars and the asset list parse."""
    assert (session["is_open"], session["bars"]) == (True, 10)
    assert session["bar_close"] > 0 and session["assets"] > 10


def test_legacy_sdk_places_the_breakout_bots_bracket_order(session: dict[str, Any]) -> None:
    """The bracket order fills with both legs, and the position and account parse."""
    assert (session["order_class"], session["legs"]) == ("bracket", 2)
    assert session["positions"] == {"AAPL": "100"}
    assert session["account_status"] == "ACTIVE"
