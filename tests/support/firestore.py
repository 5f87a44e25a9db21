"""A real Firestore client that cannot reach any server, and the fixture that hands one to a test."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from infra.stack import free_port


def unreachable_client(project: str) -> Any:
    """A `firestore.Client` pointed at a local port where nothing listens: building it sends nothing, and
    the emulator setting is scoped to the construction, so the process environment is left as it was."""
    from google.cloud import firestore

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
        return firestore.Client(project=project)


@pytest.fixture
def dead_firestore() -> Any:
    """A Firestore client on a fresh project id whose every call fails: Firestore is down."""
    return unreachable_client(f"dead-{uuid.uuid4().hex[:12]}")
