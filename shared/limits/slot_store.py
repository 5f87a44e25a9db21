"""The window's commits on `ratelimit/{key fingerprint}`: field transforms only, no read, one document
write per take (two after a pause longer than the cells reset ahead), each with a short deadline."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared import firestore_raw as raw
from shared.firestore import RATELIMIT
from shared.limits.protocol import LimiterStats
from shared.limits.schedule import TICKET, Schedule, View, decode

BLOCKED = "blocked_until"
TRADE_UNTIL = "trade_until"


_NO_FIELDS = raw.MASK(field_paths=[])  # a take's write touches no field but the ones it transforms


def _transform(path: str, kind: str, value: float | int) -> Any:
    """Raw protobuf: a take's write carries a field transform for every bucket of the window."""
    return raw.TRANSFORM(field_path=path, **{kind: raw.value(value)})


def _number(value: Any) -> float:
    return float(value.double_value if value.HasField("double_value") else value.integer_value)


@dataclass(frozen=True)
class Taken:
    """What one take commit saw: the window's counts (its own units included) and the shared marks."""

    view: View
    fresh: frozenset[int]  # the buckets taken whose cells held them: only their units were counted
    blocked_until: float
    trade_until: float


@dataclass(frozen=True)
class Take:
    """The writes of one take, ready to commit alone or inside another commit (the order claim): the
    caller's `units` in `bucket`, and the units `adds` leases on top (in `bucket` and the next few)."""

    bucket: int
    units: int
    adds: Mapping[int, int]  # every unit taken, the caller's included, by bucket
    writes: Sequence[Any]

    def read(self, schedule: Schedule, results: Sequence[Any]) -> Taken:
        """Decode the write results of this take's writes (the last of them carries every value)."""
        values = [_number(v) for v in results[-1].transform_results]
        counts: dict[int, int] = {}
        for x, value in zip(schedule.window_buckets(self.bucket), values, strict=False):
            held, count = decode(int(value))
            if held == x:
                counts[x] = count
        fresh = frozenset(x for x in self.adds if x in counts)
        return Taken(View(counts, self.bucket), fresh, values[-2], values[-1])


class SlotStore:
    """The window's commits, on one document per key."""

    def __init__(
        self, db: Any, schedule: Schedule, stats: LimiterStats, timeout: float, collection: str = RATELIMIT
    ) -> None:
        self._db = db
        self._schedule = schedule
        self._stats = stats
        self._timeout = timeout
        self._collection = collection
        self._warm = False  # the first call also opens the channel: allow it longer
        self._names: dict[str, str] = {}  # key -> the document's full name

    def _write(self, key: str, transforms: list[Any]) -> Any:
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = self._db.collection(self._collection).document(key)._document_path
        return raw.WRITE(update=raw.DOCUMENT(name=name), update_mask=_NO_FIELDS, update_transforms=transforms)

    def _commit(self, writes: Sequence[Any]) -> Sequence[Any]:
        results = raw.commit(self._db, writes, self._timeout if self._warm else max(self._timeout, 5.0))
        self._warm = True
        self.count(writes)
        return results

    def count(self, writes: Sequence[Any], own_commit: bool = True) -> None:
        self._stats.add(commits=1 if own_commit else 0, writes=len(writes))

    def prepare(
        self,
        key: str,
        bucket: int,
        units: int,
        adds: Mapping[int, int],
        *,
        current: int,
        debts: Mapping[int, int],
        trade_until: float,
        stale: Collection[int],
    ) -> Take:
        """One write that adds `adds` (the caller's `units` in `bucket`, and a lease in it and the buckets
        after it), hands back `debts`, resets the cells ahead (as far as a commit made in the `current`
        bucket may) and reads the rest through `Increment(0)`; preceded by a reset of the cells of the
        `stale` buckets taken (ones no commit seen has reset since their cell last held another)."""
        sched = self._schedule
        ahead = sched.resets(bucket, current)
        transforms = []
        for x in sched.window_buckets(bucket):
            if x in ahead and x not in adds and x not in debts:
                transforms.append(_transform(sched.cell(x), "maximum", x * TICKET))
            else:
                transforms.append(_transform(sched.cell(x), "increment", adds.get(x, 0) - debts.get(x, 0)))
        transforms.append(_transform(BLOCKED, "maximum", 0.0))
        transforms.append(_transform(TRADE_UNTIL, "maximum", trade_until))
        writes = [self._write(key, transforms)]
        if stale:
            resets = [_transform(sched.cell(x), "maximum", x * TICKET) for x in sorted(stale)]
            writes.insert(0, self._write(key, resets))
        return Take(bucket, units, dict(adds), writes)

    def take(self, take: Take) -> Taken:
        return take.read(self._schedule, self._commit(take.writes))

    def hand_back(self, key: str, debts: Mapping[int, int]) -> None:
        """Units never sent, handed back so the window counts them no more."""
        sched = self._schedule
        transforms = [_transform(sched.cell(x), "increment", -n) for x, n in sorted(debts.items()) if n]
        if transforms:
            self._commit([self._write(key, transforms)])

    def block(self, key: str, until: float) -> None:
        """Every instance backs off until `until`."""
        self._commit([self._write(key, [_transform(BLOCKED, "maximum", until)])])
