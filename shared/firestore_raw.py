"""The order path's and the limiter's commits in raw protobuf: documents encoded straight into the
wire types, and one commit RPC that also hands back every transform result.

The client's own path wraps every value, field and transform in a proto-plus object, which costs more
CPU than the emulator's commit itself; these writes mean exactly what the client's `create`, `update`
and `delete` mean. Values: None, bool, int, float, str, bytes, datetime (naive ones are UTC, as the
client reads them), mappings with string keys and lists; `SERVER_TIMESTAMP` at the top level of a
document. tests/unit/test_firestore_raw.py holds them to the client's encoding, and
tests/unit/test_firestore_client.py pins the private attributes the commit uses."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from google.cloud.firestore import SERVER_TIMESTAMP
from google.cloud.firestore_v1.types import common as common_pb
from google.cloud.firestore_v1.types import document as document_pb
from google.cloud.firestore_v1.types import firestore as firestore_pb
from google.cloud.firestore_v1.types import write as write_pb
from google.protobuf import struct_pb2, timestamp_pb2

VALUE = document_pb.Value.pb()
TRANSFORM = write_pb.DocumentTransform.FieldTransform.pb()
WRITE = write_pb.Write.pb()
DOCUMENT = document_pb.Document.pb()
MASK = common_pb.DocumentMask.pb()
_PRECONDITION = common_pb.Precondition.pb()
_MAP = document_pb.MapValue.pb()
_ARRAY = document_pb.ArrayValue.pb()
_COMMIT_REQUEST = firestore_pb.CommitRequest.pb()
_REQUEST_TIME = write_pb.DocumentTransform.FieldTransform.ServerValue.REQUEST_TIME
_SIMPLE_FIELD = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")


def value(item: Any) -> Any:
    """One Python value as a Firestore `Value`."""
    if item is None:
        return VALUE(null_value=struct_pb2.NULL_VALUE)
    if isinstance(item, bool):
        return VALUE(boolean_value=item)
    if isinstance(item, int):
        return VALUE(integer_value=item)
    if isinstance(item, float):
        return VALUE(double_value=item)
    if isinstance(item, str):
        return VALUE(string_value=item)
    if isinstance(item, bytes):
        return VALUE(bytes_value=item)
    if isinstance(item, datetime):
        moment = item if item.tzinfo else item.replace(tzinfo=UTC)
        seconds = calendar.timegm(moment.utctimetuple())
        return VALUE(
            timestamp_value=timestamp_pb2.Timestamp(seconds=seconds, nanos=moment.microsecond * 1000)
        )
    if isinstance(item, Mapping):
        return VALUE(map_value=_MAP(fields=_fields(item)))
    if isinstance(item, list | tuple):
        return VALUE(array_value=_ARRAY(values=[value(x) for x in item]))
    raise TypeError(f"cannot store a {type(item).__name__} in Firestore")


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    if any(x is SERVER_TIMESTAMP for x in data.values()):
        raise TypeError("SERVER_TIMESTAMP is only written at the top level of a document")
    return {key: value(x) for key, x in data.items()}


def _split(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The stored fields, and a request-time transform for each top-level SERVER_TIMESTAMP."""
    stored = {key: x for key, x in data.items() if x is not SERVER_TIMESTAMP}
    stamps = [
        TRANSFORM(field_path=field_path(key), set_to_server_value=_REQUEST_TIME)
        for key, x in data.items()
        if x is SERVER_TIMESTAMP
    ]
    return _fields(stored), stamps


def field_path(key: str) -> str:
    """A top-level field's name as a field path: quoted in backticks unless it is a plain identifier."""
    if _SIMPLE_FIELD.match(key):
        return key
    return "`" + key.replace("\\", "\\\\").replace("`", "\\`") + "`"


def create(name: str, data: Mapping[str, Any]) -> Any:
    """Create the document `name` (its full resource name) with `data`; fails if it exists."""
    fields, stamps = _split(data)
    return WRITE(
        update=DOCUMENT(name=name, fields=fields),
        update_transforms=stamps,
        current_document=_PRECONDITION(exists=False),
    )


def update(name: str, data: Mapping[str, Any]) -> Any:
    """Replace the top-level fields named in `data` of the existing document `name`."""
    fields, stamps = _split(data)
    return WRITE(
        update=DOCUMENT(name=name, fields=fields),
        update_mask=MASK(field_paths=sorted(field_path(key) for key in fields)),
        update_transforms=stamps,
        current_document=_PRECONDITION(exists=True),
    )


def delete(name: str) -> Any:
    return WRITE(delete=name)


def as_raw(write: Any) -> Any:
    """A write the client built (proto-plus), as raw protobuf, to join a raw commit."""
    return write_pb.Write.pb(write)


def commit(db: Any, writes: Sequence[Any], timeout: float) -> Sequence[Any]:
    """Commit raw `Write`s in one RPC, never retried, and return the raw write results (the transform
    results included, which the client's public batch does not hand back)."""
    request = firestore_pb.CommitRequest.wrap(_COMMIT_REQUEST(database=db._database_string, writes=writes))
    response = db._firestore_api.commit(
        request=request, metadata=db._rpc_metadata, retry=None, timeout=timeout
    )
    results: Sequence[Any] = firestore_pb.CommitResponse.pb(response).write_results
    return results
