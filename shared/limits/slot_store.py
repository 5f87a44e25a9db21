"""The slot limiter's three commits on `ratelimit/{key fingerprint}`: field transforms only, no read,
each with a short deadline (the encoding is described in shared/limits/slots.py)."""

from __future__ import annotations

from typing import Any

from google.cloud.firestore_v1.types import common as common_pb
from google.cloud.firestore_v1.types import document as document_pb
from google.cloud.firestore_v1.types import write as write_pb

from shared.firestore import RATELIMIT
from shared.limits.protocol import LimiterStats

TICKET = 2**20  # claims per trade slot the cell encoding can tell apart
RING = 64  # trade cells, reused round robin: far more than a trade's wait ever spans


def _transform(path: str, kind: str, value: float | int) -> Any:
    number = (
        document_pb.Value(double_value=value)
        if isinstance(value, float)
        else document_pb.Value(integer_value=value)
    )
    return write_pb.DocumentTransform.FieldTransform(field_path=path, **{kind: number})


def _number(value: Any) -> float:
    return float(value.double_value if "double_value" in value else value.integer_value)


class SlotStore:
    """The three commits of the limiter, on one document per key, each with a short deadline."""

    def __init__(self, db: Any, stats: LimiterStats, timeout: float, collection: str = RATELIMIT) -> None:
        self._db = db
        self._stats = stats
        self._timeout = timeout
        self._collection = collection
        self._warm = False  # the first call also opens the channel: allow it longer

    def _commit(self, key: str, *writes: list[Any]) -> list[list[float]]:
        # The client's private commit path, because its public WriteBatch cannot send two writes with
        # transforms to one document in one commit nor hand back every transform result; both are
        # what makes a slot one commit with no read. tests/unit/test_firestore_client.py pins the
        # client version and these attributes, so an upgrade that moves them fails there first.
        name = self._db.collection(self._collection).document(key)._document_path
        protos = [
            write_pb.Write(
                update=document_pb.Document(name=name),
                update_mask=common_pb.DocumentMask(field_paths=[]),
                update_transforms=transforms,
            )
            for transforms in writes
        ]
        response = self._db._firestore_api.commit(
            request={"database": self._db._database_string, "writes": protos},
            metadata=self._db._rpc_metadata,
            retry=None,
            timeout=self._timeout if self._warm else max(self._timeout, 5.0),
        )
        self._warm = True
        self._stats.add(commits=1, writes=len(protos))
        return [[_number(value) for value in result.transform_results] for result in response.write_results]

    def next_read(self, key: str, floor: int | None) -> tuple[int, float]:
        """Take the read counter's next value, first raised to `floor`: (ordinal, blocked_until)."""
        blocked = _transform("blocked_until", "maximum", 0.0)
        increment = _transform("read_next", "increment", 1)
        if floor is None:
            (result,) = self._commit(key, [increment, blocked])
            return int(result[0]) - 1, result[1]
        raise_floor = _transform("read_next", "maximum", floor)
        first, second = self._commit(key, [raise_floor, blocked], [increment])
        return int(second[0]) - 1, first[1]

    def claim_trade(self, key: str, slot: int, trade_every: int) -> tuple[bool, float]:
        """Claim trade slot `slot`: (won, blocked_until)."""
        cell = f"t{(slot // trade_every) % RING}"
        base = slot * TICKET
        first, second = self._commit(
            key,
            [_transform(cell, "maximum", base), _transform("blocked_until", "maximum", 0.0)],
            [_transform(cell, "increment", 1)],
        )
        return int(second[0]) == base + 1, first[1]

    def block(self, key: str, until: float, floor: int) -> None:
        """Every instance backs off until `until`; the read counter skips past it."""
        self._commit(
            key,
            [_transform("blocked_until", "maximum", until), _transform("read_next", "maximum", floor)],
        )
