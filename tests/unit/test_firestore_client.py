"""The Firestore client internals the limiter and the order claim commit through (shared/limits/slot_store.py,
shared/orders/store.py), pinned.

The limiter sends its field transforms with one raw commit, on private attributes of google-cloud-firestore:
these tests fail first when an upgrade moves them, so the pin in requirements.txt moves with a check."""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from google.cloud.firestore_v1.types import common as common_pb
from google.cloud.firestore_v1.types import document as document_pb
from google.cloud.firestore_v1.types import firestore as firestore_pb
from google.cloud.firestore_v1.types import write as write_pb

from tests.support.firestore import unreachable_client

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"


def pinned(package: str) -> str:
    found = re.search(rf"^{re.escape(package)}==(\S+)$", REQUIREMENTS.read_text(), re.MULTILINE)
    assert found, f"{package} is not pinned with == in requirements.txt"
    return found.group(1)


@pytest.fixture(scope="module")
def client() -> Any:
    """A real client on project `x`; building it makes no call."""
    return unreachable_client("x")


def test_installed_firestore_client_is_the_pinned_version() -> None:
    """The private attributes below were checked against this release; an upgrade re-checks them."""
    assert version("google-cloud-firestore") == pinned("google-cloud-firestore")


def test_client_exposes_the_raw_commit_the_limiter_calls(client: Any) -> None:
    """`_firestore_api.commit` takes the request, metadata, retry and timeout the limiter passes."""
    parameters = inspect.signature(client._firestore_api.commit).parameters
    assert {"request", "metadata", "retry", "timeout"} <= set(parameters)


def test_client_names_its_database_and_metadata_as_the_limiter_expects(client: Any) -> None:
    """`_database_string` is the database's resource name; `_rpc_metadata` a list of header pairs."""
    assert client._database_string == "projects/x/databases/(default)"
    metadata = client._rpc_metadata
    assert all(isinstance(name, str) and isinstance(value, str | bytes) for name, value in metadata)
    assert ("google-cloud-resource-prefix", "projects/x/databases/(default)") in metadata


def test_document_reference_gives_its_full_path(client: Any) -> None:
    """`DocumentReference._document_path` is the name a raw Write needs."""
    path = client.collection("ratelimit").document("k")._document_path
    assert path == "projects/x/databases/(default)/documents/ratelimit/k"


def test_write_and_commit_types_take_the_fields_the_limiter_uses() -> None:
    """A transform-only Write, and a CommitResponse whose write results carry transform results."""
    transform = write_pb.DocumentTransform.FieldTransform(
        field_path="read_next", increment=document_pb.Value(integer_value=1)
    )
    maximum = write_pb.DocumentTransform.FieldTransform(
        field_path="blocked_until", maximum=document_pb.Value(double_value=0.0)
    )
    write = write_pb.Write(
        update=document_pb.Document(name="projects/x/databases/(default)/documents/ratelimit/k"),
        update_mask=common_pb.DocumentMask(field_paths=[]),
        update_transforms=[transform, maximum],
    )
    request = firestore_pb.CommitRequest(database="projects/x/databases/(default)", writes=[write])
    assert [t.field_path for t in request.writes[0].update_transforms] == ["read_next", "blocked_until"]
    result = write_pb.WriteResult(transform_results=[document_pb.Value(integer_value=7)])
    response = firestore_pb.CommitResponse(write_results=[result])
    value = response.write_results[0].transform_results[0]
    assert "integer_value" in value and value.integer_value == 7


def test_write_batch_keeps_its_write_protos_for_the_claim(client: Any) -> None:
    """The order claim sends a batch's writes with the limiter's in one raw commit: `_write_pbs`."""
    batch = client.batch()
    batch.create(client.collection("orders").document("o"), {"state": "pending"})
    (write,) = batch._write_pbs
    assert write.update.name.endswith("/documents/orders/o")


def test_client_api_object_can_be_wrapped_to_count_calls(client: Any) -> None:
    """tests/support/firestore.counting replaces `_firestore_api_internal`, which `_firestore_api` returns."""
    api = client._firestore_api
    assert client._firestore_api_internal is api
