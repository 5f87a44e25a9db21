"""A local stand-in for Eventarc: each audit document created on the emulator is posted to the
gateway server as the CloudEvent Eventarc would send (binary mode, `google.cloud.firestore.document.
v1.created`, a protobuf DocumentEventData body), so `notify_on_audit` runs offline on the same path.

Run by `make run` (infra/run.py); `python -m infra.eventarc --target URL` runs it alone.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from infra.stack import Service, spawn

CREATED = "google.cloud.firestore.document.v1.created"
log = logging.getLogger("execution_engine")


def document_event(project: str, path: str, fields: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
    """The headers and body of a binary-mode CloudEvent announcing the document at `path`."""
    from google.cloud.firestore_v1 import _helpers
    from google.cloud.firestore_v1.types import document

    from functions._events import DocumentEventData

    database = f"projects/{project}/databases/(default)"
    value = document.Document(name=f"{database}/documents/{path}", fields=_helpers.encode_dict(dict(fields)))
    body = DocumentEventData.serialize(DocumentEventData(value=value))
    headers = {
        "ce-specversion": "1.0",
        "ce-type": CREATED,
        "ce-source": f"//firestore.googleapis.com/{database}",
        "ce-subject": f"documents/{path}",
        "ce-id": uuid.uuid4().hex,
        "ce-time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "Content-Type": "application/protobuf",
    }
    return headers, bytes(body)


class AuditListener:
    """Listens to `audit` on the emulator and posts each document added after it started."""

    def __init__(self, db: Any, project: str, target: str, http: httpx.Client | None = None) -> None:
        self._db = db
        self._project = project
        self._target = target
        self._http = http or httpx.Client(timeout=30.0)
        self._started = datetime.now(UTC)
        self._watch: Any = None
        self.posted = 0
        self._lock = threading.Lock()
        self._listening = threading.Event()

    def start(self, wait_seconds: float = 30.0) -> AuditListener:
        """Listen, and return once the first snapshot is in (or after `wait_seconds` on a slow host):
        from then on every new document arrives as a change."""
        self._watch = self._db.collection("audit").on_snapshot(self._on_snapshot)
        if not self._listening.wait(wait_seconds):
            log.warning("eventarc stand-in: no first snapshot after %.0f s; still listening", wait_seconds)
        return self

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.unsubscribe()

    def _on_snapshot(self, _docs: Any, changes: Any, _read_time: Any) -> None:
        for change in changes:
            if change.type.name != "ADDED":
                continue
            snap = change.document
            created = snap.create_time
            if created is not None and created < self._started:
                continue  # the listener's first snapshot lists what existed before it: not new
            self.post(f"audit/{snap.id}", snap.to_dict() or {})
        self._listening.set()

    def post(self, path: str, fields: Mapping[str, Any]) -> None:
        headers, body = document_event(self._project, path, fields)
        try:
            response = self._http.post(self._target, content=body, headers=headers)
            if response.status_code >= 300:
                log.warning("eventarc stand-in: %s answered %s", path, response.status_code)
        except httpx.HTTPError as exc:
            log.warning("eventarc stand-in: %s not delivered (%s)", path, type(exc).__name__)
        with self._lock:
            self.posted += 1


def start_eventarc(env: Mapping[str, str], gateway_port: int, log_dir: Path) -> Service:
    """The stand-in as a process of the local stack, posting to the gateway server's event route."""
    target = f"http://127.0.0.1:{gateway_port}/events/notify_on_audit"
    args = [sys.executable, "-m", "infra.eventarc", "--target", target]
    return spawn("eventarc", args, target, lambda: True, env=env, log_dir=log_dir)


def main() -> int:
    parser = argparse.ArgumentParser(description="Post new audit documents to notify_on_audit.")
    parser.add_argument("--target", required=True, help="the URL of the notify_on_audit entry point")
    args = parser.parse_args()
    from google.cloud import firestore

    project = os.environ.get("GOOGLE_CLOUD_PROJECT", "execution-engine-local")
    listener = AuditListener(firestore.Client(project=project), project, args.target).start()
    print(f"eventarc stand-in: audit/* created -> {args.target}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        listener.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
