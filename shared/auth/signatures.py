"""Signed requests: `X-Signature: keyId=<caller>,t=<unix seconds>,v1=<hex HMAC-SHA256 over
"<t>.<METHOD>.<path>.<body>">`, within 300 s of now, each signature accepted once."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.auth.callers import Caller, CallerRegistry, Scope
from shared.clock import Clock
from shared.errors import Unauthorized
from shared.firestore import SIGNATURES, TIMEOUT_SECONDS, Duplicate, firestore_errors

HEADER = "X-Signature"
TOLERANCE_SECONDS = 300
FORM = re.compile(r"keyId=(?P<key>[A-Za-z0-9._-]{1,64}),t=(?P<t>[0-9]{1,12}),v1=(?P<v1>[0-9a-f]{64})")
# An unknown keyId still costs one HMAC, so timing does not tell names that exist from names that don't.
_NO_SECRET = "\x00" * 32


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers: the header as sent, the method, the public path with its query, the body."""

    header: str
    method: str
    path: str
    body: bytes


def signed_bytes(timestamp: int, method: str, path: str, body: bytes) -> bytes:
    return f"{timestamp}.{method.upper()}.{path}.".encode() + body


def signature(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    """The `v1` value: hex HMAC-SHA256 of the signed bytes with the caller's signing secret."""
    message = signed_bytes(timestamp, method, path, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _refused(message: str, reason: str = "invalid_signature") -> Unauthorized:
    return Unauthorized(message, reason=reason)


class ReplayGuard:
    """Remembers each accepted signature in `signatures/{sha256}` until well after its window closes
    (Firestore's TTL policy on `expires_at` deletes it); a second `create()` of one is a replay."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def accept(self, v1: str, caller: str, expires_at: float) -> None:
        doc = self._db.collection(SIGNATURES).document(hashlib.sha256(v1.encode()).hexdigest())
        expires = datetime.fromtimestamp(expires_at, UTC)
        try:
            with firestore_errors():
                doc.create({"caller": caller, "expires_at": expires}, timeout=TIMEOUT_SECONDS)
        except Duplicate:
            raise _refused("this signature was already used", "signature_replayed") from None


class SignatureCheck:
    def __init__(self, registry: CallerRegistry, replay: ReplayGuard, clock: Clock) -> None:
        self._registry = registry
        self._replay = replay
        self._clock = clock

    def verify(self, signed: SignedRequest, scope: Scope) -> Caller:
        """The signing caller with `scope`: 401 if malformed, unknown, wrong, stale or replayed, 403 if the
        caller lacks the scope (checked before the signature is remembered, so that costs no write)."""
        match = FORM.fullmatch(signed.header.strip())
        if match is None:
            raise _refused(f"{HEADER} must be keyId=<caller>,t=<unix seconds>,v1=<hex>")
        timestamp = int(match["t"])
        if abs(self._clock.now() - timestamp) > TOLERANCE_SECONDS:
            message = f"the signature's time is more than {TOLERANCE_SECONDS} s from now"
            raise _refused(message, "signature_expired")
        caller = self._registry.by_name(match["key"])
        secret = caller.signing_secret if caller else None
        expected = signature(secret or _NO_SECRET, timestamp, signed.method, signed.path, signed.body)
        if not hmac.compare_digest(expected, match["v1"]) or caller is None or secret is None:
            raise _refused("the signature is not valid")
        caller.require(scope)
        self._replay.accept(match["v1"], caller.name, timestamp + 2 * TOLERANCE_SECONDS)
        return caller
