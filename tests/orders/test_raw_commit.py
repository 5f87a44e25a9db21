"""shared/firestore_raw.py's commit against the emulator: documents read back as written, transform results
come back, and a failed create fails the whole commit."""

from __future__ import annotations

from typing import Any

import pytest

from shared import firestore_raw as raw
from tests.unit.test_firestore_raw import DOCUMENT


def test_committed_documents_read_back_as_written(db: Any) -> None:
    ref = db.collection("raw").document("doc")
    results = raw.commit(db, [raw.create(ref._document_path, DOCUMENT)], timeout=5.0)
    stored = ref.get().to_dict()
    assert len(results) == 1
    assert {k: v for k, v in stored.items() if k != "created_at"} == {
        k: v for k, v in DOCUMENT.items() if k != "created_at"
    }


def test_commit_returns_every_transform_result(db: Any) -> None:
    name = db.collection("raw").document("counter")._document_path
    bump = raw.TRANSFORM(field_path="n", increment=raw.value(2))
    write = raw.WRITE(update=raw.DOCUMENT(name=name), update_mask=raw.MASK(), update_transforms=[bump])
    raw.commit(db, [write], timeout=5.0)
    (result,) = raw.commit(db, [write], timeout=5.0)
    assert result.transform_results[0].integer_value == 4


def test_create_of_an_existing_document_fails_the_whole_commit(db: Any) -> None:
    first = db.collection("raw").document("taken")
    other = db.collection("raw").document("other")
    raw.commit(db, [raw.create(first._document_path, {"n": 1})], timeout=5.0)
    with pytest.raises(Exception, match=r"(?i)already exists"):
        raw.commit(
            db,
            [raw.create(other._document_path, {"n": 2}), raw.create(first._document_path, {"n": 3})],
            timeout=5.0,
        )
    assert not other.get().exists
