"""The unit tier starts no process: a test here that asks for the emulator or the sandbox is a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parent
PROCESS_FIXTURES = frozenset({"firestore_emulator", "sandbox_service"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        needs = PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if needs and UNIT in item.path.parents:
            raise pytest.UsageError(f"{item.nodeid} is a unit test but uses {sorted(needs)}")
