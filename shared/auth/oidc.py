"""Google OIDC ID tokens for the scheduled entry points: the signing certs, cached per their headers, and
the check of a token's signature, expiry, audience, issuer and service account."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, cast

import httpx
from google.auth import exceptions as auth_exceptions
from google.auth import jwt

from shared.clock import Clock
from shared.errors import Unauthorized, Unavailable

log = logging.getLogger("execution_engine")

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})
DEFAULT_MAX_AGE = 300.0  # when the certs response carries no max-age
LONGEST_MAX_AGE = 24 * 3600.0
REFETCH_INTERVAL = 30.0  # an unknown kid refetches at most this often: tokens must not drive our traffic
FETCH_TIMEOUT = 5.0
CLOCK_SKEW_SECONDS = 30  # google-auth judges iat/exp by the system clock, allowing this much either way
LONGEST_TOKEN = 16 * 1024  # Google's ID tokens are ~1 KiB; parse nothing bigger


# google-auth's messages quote the token's segments: only these known causes are named in the log.
KNOWN_CAUSES = (
    ("Token expired", "expired"),
    ("Token used too early", "issued in the future"),
    ("Token has wrong audience", "wrong audience"),
    ("Could not verify token signature", "bad signature"),
    ("Certificate for key id", "unknown key id"),
)


def max_age(cache_control: str | None) -> float:
    """Seconds a response may be cached by its Cache-Control: max-age, 0 for no-store/no-cache."""
    if cache_control is None:
        return DEFAULT_MAX_AGE
    found = DEFAULT_MAX_AGE
    for directive in cache_control.lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age":
            try:
                found = float(int(value.strip().strip('"')))
            except ValueError:
                return DEFAULT_MAX_AGE
    return min(max(found, 0.0), LONGEST_MAX_AGE)


class CertCache:
    """The `{kid: PEM certificate}` map at a certs URL (Google's v1 format), shared by threads."""

    def __init__(self, client: httpx.Client, clock: Clock, url: str = GOOGLE_CERTS_URL) -> None:
        self._client = client
        self._clock = clock
        self._url = url
        self._lock = threading.Lock()
        self._certs: dict[str, str] | None = None
        self._expires = 0.0
        self._refetched = float("-inf")  # the last refetch for an unknown kid

    def certs(self, kid: str | None = None) -> Mapping[str, str]:
        """The current certs; fetched again when stale, or once per interval when `kid` is not among them."""
        with self._lock:
            now = self._clock.now()
            if self._certs is None or now >= self._expires:
                return self._fetch(now)
            if kid is not None and kid not in self._certs and now - self._refetched >= REFETCH_INTERVAL:
                log.info("OIDC key id not among the cached certs; fetching them again")
                self._refetched = now
                return self._fetch(now)
            return self._certs

    def _fetch(self, now: float) -> dict[str, str]:
        try:
            response = self._client.get(self._url, timeout=FETCH_TIMEOUT)
            response.raise_for_status()
            body: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("OIDC certs unavailable from %s: %s", self._url, type(exc).__name__)
            raise Unavailable("the token signing keys are unavailable", retry_after=REFETCH_INTERVAL) from exc
        if (
            not isinstance(body, dict)
            or not body
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in body.items())
        ):
            log.warning("OIDC certs from %s are not a map of key id to certificate", self._url)
            raise Unavailable("the token signing keys are unavailable", retry_after=REFETCH_INTERVAL)
        age = response.headers.get("age", "")  # seconds the response already spent in a shared cache
        self._certs = cast(dict[str, str], body)
        self._expires = now + max_age(response.headers.get("cache-control"))
        self._expires -= int(age) if age.isdigit() else 0
        return self._certs


class OidcVerifier:
    """Accepts a Google-signed ID token for `audience` whose verified email is one of `accounts`."""

    def __init__(self, audience: str | None, accounts: frozenset[str], certs: CertCache) -> None:
        self._audience = audience or None
        self._accounts = accounts
        self._certs = certs
        self._warned = False

    def verify(self, token: str) -> str:
        """The token's service account email, or 401 without saying which part was wrong."""
        if self._audience is None or not self._accounts:
            if not self._warned:
                self._warned = True
                log.warning("OIDC is not configured (no audience or no accounts): refusing every token")
            raise self._refuse("OIDC not configured")
        if len(token) > LONGEST_TOKEN:
            raise self._refuse("token too long")
        try:
            header: Mapping[str, Any] = jwt.decode_header(token)  # type: ignore[no-untyped-call]
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise self._refuse("no key id in the header")
            claims: Mapping[str, Any] = jwt.decode(  # type: ignore[no-untyped-call]
                token,
                certs=self._certs.certs(kid),
                audience=self._audience,
                clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
            )
        except (auth_exceptions.GoogleAuthError, ValueError, TypeError, RecursionError) as exc:
            text = str(exc)
            cause = next((name for prefix, name in KNOWN_CAUSES if text.startswith(prefix)), None)
            raise self._refuse(cause or f"malformed ({type(exc).__name__})") from None
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or issuer not in ISSUERS:
            raise self._refuse("issuer not Google")
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") is not True:
            raise self._refuse("email missing or not verified")
        if email not in self._accounts:
            raise self._refuse(f"account {email} not listed")
        return email

    @staticmethod
    def _refuse(cause: str) -> Unauthorized:
        log.info("scheduler OIDC token refused: %s", cause)
        return Unauthorized("the token is not valid for scheduled entry points", reason="invalid_token")
