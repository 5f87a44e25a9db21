"""shared/firestore_raw.py writes what the client's own encoding writes; its commits are tested against the
emulator in tests/orders/test_raw_commit.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers
from google.cloud.firestore_v1.field_path import FieldPath
from google.cloud.firestore_v1.types import document as document_pb

from shared import firestore_raw as raw

NAME = "projects/x/databases/(default)/documents/orders/abc"
STAMPED = datetime(2026, 3, 4, 15, 30, 1, 250_001, tzinfo=UTC)
DOCUMENT: dict[str, Any] = {
    "state": "pending",
    "qty": 3,
    "price": 10.25,
    "flag": True,
    "none": None,
    "raw": b"\x00\x01",
    "time": STAMPED,
    "nested": {"a": [1, "two", {"b": None}], "when": STAMPED},
    "created_at": firestore.SERVER_TIMESTAMP,
}

VALUES = [
    None,
    True,
    False,
    0,
    -7,
    2**62,
    1.5,
    "",
    "text",
    b"bytes",
    STAMPED,
    datetime(1960, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 1),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
    [1, [2, 3], {"k": "v"}],
    {"map": {"deep": [None, 1.0]}},
]


@pytest.mark.parametrize("item", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_value_encodes_as_the_client_does(item: Any) -> None:
    assert raw.value(item) == document_pb.Value.pb(_helpers.encode_value(item))


def test_value_refuses_a_type_firestore_cannot_hold() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        raw.value(Decimal("1.5"))


def test_server_timestamp_below_the_top_level_is_refused() -> None:
    with pytest.raises(TypeError, match="top level"):
        raw.create(NAME, {"outer": {"at": firestore.SERVER_TIMESTAMP}})


def test_create_is_the_clients_create() -> None:
    (expected,) = _helpers.pbs_for_create(NAME, DOCUMENT)
    assert raw.create(NAME, DOCUMENT) == raw.as_raw(expected)


def test_update_is_the_clients_update_of_top_level_fields() -> None:
    change = {"state": "sent", "order_id": "o-1", "updated_at": firestore.SERVER_TIMESTAMP}
    (expected,) = _helpers.pbs_for_update(NAME, change, None)
    assert raw.update(NAME, change) == raw.as_raw(expected)


def test_delete_is_the_clients_delete() -> None:
    assert raw.delete(NAME) == raw.as_raw(_helpers.pb_for_delete(NAME, None))


@pytest.mark.parametrize("key", ["plain_name", "with-dash", "has.dot", "back`tick", "9starts", "sla\\sh"])
def test_field_path_quotes_as_the_client_does(key: str) -> None:
    assert raw.field_path(key) == FieldPath(key).to_api_repr()
