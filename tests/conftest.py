"""Shared fixtures: one Firestore emulator and one sandbox broker per test session, real processes."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.stack import Service, start_emulator, start_sandbox
from tests.support.env import SANDBOX_KEY as SANDBOX_KEY  # re-exported: tests/sandbox imports them from here
from tests.support.env import SANDBOX_SECRET as SANDBOX_SECRET
from tests.support.sandbox import Sandbox

pytest_plugins = ("tests.support.firestore",)  # the `dead_firestore` fixture


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[str]:
    """Host:port of a Firestore emulator: the one in FIRESTORE_EMULATOR_HOST, else one we start."""
    existing = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if existing:
        yield existing
        return
    if shutil.which("gcloud") is None or shutil.which("java") is None:
        pytest.skip("the Firestore emulator needs gcloud and Java")
    service = start_emulator()
    os.environ["FIRESTORE_EMULATOR_HOST"] = service.url
    try:
        yield service.url
    finally:
        os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
        service.stop()


@pytest.fixture
def firestore_project(firestore_emulator: str) -> Iterator[str]:
    """A fresh project id on the emulator, so each test sees an empty database; cleared afterwards."""
    project = f"test-{uuid.uuid4().hex[:12]}"
    yield project
    httpx.delete(
        f"http://{firestore_emulator}/emulator/v1/projects/{project}/databases/(default)/documents",
        timeout=10.0,
    )


@pytest.fixture
def db(firestore_project: str) -> Any:
    """A real Firestore client on the emulator, isolated by project id."""
    from google.cloud import firestore

    return firestore.Client(project=firestore_project)


def generous_sandbox() -> Iterator[Service]:
    """A sandbox whose budget is so high that only injected faults answer 429: suites that are not about
    the upstream limit register it as their `sandbox_service`."""
    service = start_sandbox(rate_limit=100000)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def sandbox_service() -> Iterator[Service]:
    service = start_sandbox()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def sandbox(sandbox_service: Service) -> Iterator[Sandbox]:
    """The session's sandbox, reset to its initial state (time real again, no faults) for this test."""
    box = Sandbox(sandbox_service)
    box.reset()
    try:
        yield box
    finally:
        box.admin.close()
