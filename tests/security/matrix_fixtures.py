"""The matrix's fixtures: Google-style signing keys, a local certs endpoint, and a fresh gateway per test
on the module's Desk book, its clock 10 s later each time."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from shared.app import install
from shared.clock import parse_time
from tests.auth.oidc_keys import CertsEndpoint, SigningKey, certs_endpoint
from tests.security.conftest import Desk
from tests.security.credentials import Matrix, documents
from tests.support.env import TRADING_NOW

TRADING_EPOCH = int(parse_time(TRADING_NOW).timestamp())
TICKS = itertools.count()  # each test's gateway clock starts 10 s later: no two tests sign the same bytes


@pytest.fixture(scope="module")
def oidc_key() -> SigningKey:
    return SigningKey("matrix-key-a")


@pytest.fixture(scope="module")
def stranger_key() -> SigningKey:
    """A key the certs endpoint never publishes."""
    return SigningKey("matrix-key-b")


@pytest.fixture(scope="module")
def certs(oidc_key: SigningKey) -> Iterator[CertsEndpoint]:
    with certs_endpoint(oidc_key) as endpoint:
        yield endpoint


@pytest.fixture
def matrix(desk: Desk, certs: CertsEndpoint) -> Iterator[Matrix]:
    book = desk.ready(None)
    now = TRADING_EPOCH + 10 * next(TICKS)
    instance = Matrix(desk, book, certs.url, now, documents(desk.db))
    instance.install()
    try:
        yield instance
    finally:
        install(None)
