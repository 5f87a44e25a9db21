"""OidcVerifier and CertCache against tokens signed with local keys and certs served over real HTTP."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator

import httpx
import pytest

from shared.auth.oidc import (
    DEFAULT_MAX_AGE,
    LONGEST_MAX_AGE,
    REFETCH_INTERVAL,
    CertCache,
    OidcVerifier,
    max_age,
)
from shared.clock import ManualClock
from shared.errors import Unauthorized, Unavailable
from tests.auth.oidc_keys import ACCOUNT, AUDIENCE, CertsEndpoint, SigningKey, certs_endpoint, id_claims

ACCOUNTS = frozenset({ACCOUNT, "other-job@project.iam.gserviceaccount.com"})


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey("key-2026-a")


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return SigningKey("key-2026-b")


@pytest.fixture(scope="module")
def served(key: SigningKey) -> Iterator[CertsEndpoint]:
    with certs_endpoint(key) as endpoint:
        yield endpoint


@pytest.fixture
def endpoint(served: CertsEndpoint, key: SigningKey) -> CertsEndpoint:
    """The module's endpoint, serving only `key` and with no hits yet."""
    served.reset(key)
    return served


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


@pytest.fixture
def verifier(endpoint: CertsEndpoint, client: httpx.Client, clock: ManualClock) -> OidcVerifier:
    return OidcVerifier(AUDIENCE, ACCOUNTS, CertCache(client, clock, endpoint.url))


def refused(verifier: OidcVerifier, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert caught.value.status == 401
    assert caught.value.reason == "invalid_token"
    assert caught.value.message == "the token is not valid for scheduled entry points"
    return caught.value


def segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_valid_token_from_a_listed_verified_account_returns_its_email(
    verifier: OidcVerifier, key: SigningKey
) -> None:
    """A Google-signed token for our audience from a listed, verified account is accepted."""
    assert verifier.verify(key.sign(id_claims())) == ACCOUNT


def test_issuer_without_scheme_is_accepted(verifier: OidcVerifier, key: SigningKey) -> None:
    """Google also issues tokens with `iss` "accounts.google.com"; that form is accepted."""
    assert verifier.verify(key.sign(id_claims(iss="accounts.google.com"))) == ACCOUNT


def test_wrong_audience_is_refused(verifier: OidcVerifier, key: SigningKey) -> None:
    """A token minted for another function's URL is refused."""
    refused(verifier, key.sign(id_claims(aud="https://us-east4-project.cloudfunctions.net/other")))


@pytest.mark.parametrize("issuer", ["https://evil.example.com", ["https://accounts.google.com"], None])
def test_wrong_issuer_is_refused(verifier: OidcVerifier, key: SigningKey, issuer: object) -> None:
    """An issuer other than Google's (another string, a list, none) is refused, though signed by our key."""
    refused(verifier, key.sign(id_claims(iss=issuer)))


def test_unlisted_account_is_refused(verifier: OidcVerifier, key: SigningKey) -> None:
    """A verified service account that is not in SCHEDULER_SERVICE_ACCOUNTS is refused."""
    refused(verifier, key.sign(id_claims(email="intruder@project.iam.gserviceaccount.com")))


@pytest.mark.parametrize("verified", [False, "true", None])
def test_email_not_verified_is_refused(verifier: OidcVerifier, key: SigningKey, verified: object) -> None:
    """`email_verified` must be the JSON true; false, a string or a missing claim is refused."""
    claims = id_claims(email_verified=verified)
    if verified is None:
        del claims["email_verified"]
    refused(verifier, key.sign(claims))


def test_signature_from_another_key_under_a_served_kid_is_refused(
    verifier: OidcVerifier, key: SigningKey, other_key: SigningKey
) -> None:
    """A token naming a served kid but signed by a different private key fails the signature check."""
    refused(verifier, other_key.sign(id_claims(), kid=key.kid))


def test_unknown_kid_is_refused(verifier: OidcVerifier, other_key: SigningKey) -> None:
    """A token signed by a key the endpoint does not publish is refused."""
    refused(verifier, other_key.sign(id_claims()))


def test_expired_token_is_refused(verifier: OidcVerifier, key: SigningKey) -> None:
    """A token whose `exp` passed (beyond the clock skew) is refused."""
    claims = id_claims()
    refused(verifier, key.sign(id_claims(iat=claims["iat"] - 7200, exp=claims["iat"] - 3600)))


def test_token_issued_in_the_future_is_refused(verifier: OidcVerifier, key: SigningKey) -> None:
    """A token whose `iat` is an hour ahead is refused."""
    claims = id_claims()
    refused(verifier, key.sign(id_claims(iat=claims["iat"] + 3600, exp=claims["iat"] + 7200)))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "ee_live_0123456789abcdef0123456789abcdef",  # a caller's API token is no ID token
        "a.b.c",
        "....",
        os.urandom(48).decode("latin-1"),
        base64.urlsafe_b64encode(os.urandom(300)).decode(),
        f"{segment(['alg', 'RS256'])}.{segment({})}.c2ln",
        f"{segment({'alg': 'none', 'kid': 'key-2026-a'})}.{segment(id_claims())}.",
        f"{segment({'alg': 'HS256', 'kid': 'key-2026-a'})}.{segment(id_claims())}.c2ln",
        f"{segment({'alg': 'RS256', 'kid': 'key-2026-a'})}.{segment(id_claims())}.!!!",
        f"{segment({'alg': 'RS256', 'kid': 7})}.{segment(id_claims())}.c2ln",
        "x" * 20000,
    ],
    ids=[
        "empty",
        "no-dots",
        "api-token",
        "bad-segments",
        "many-dots",
        "random-bytes",
        "random-base64",
        "header-not-object",
        "alg-none",
        "alg-hs256",
        "signature-not-base64",
        "kid-not-string",
        "huge",
    ],
)
def test_malformed_token_is_refused(verifier: OidcVerifier, token: str) -> None:
    """Anything that is not a well-formed RS256 JWT is refused with the same 401, never a 500."""
    refused(verifier, token)


def test_token_without_kid_is_refused(verifier: OidcVerifier, key: SigningKey) -> None:
    """Google always names the signing key; a token with no `kid` is refused."""
    refused(verifier, key.sign(id_claims(), kid=None))


def test_certs_are_fetched_once_within_max_age(
    verifier: OidcVerifier, endpoint: CertsEndpoint, key: SigningKey, clock: ManualClock
) -> None:
    """Tokens verified within the response's max-age share one fetch of the certs."""
    for _ in range(3):
        assert verifier.verify(key.sign(id_claims())) == ACCOUNT
        clock.advance(100)
    assert endpoint.hits == 1


def test_certs_are_fetched_again_after_max_age(
    verifier: OidcVerifier, endpoint: CertsEndpoint, key: SigningKey, clock: ManualClock
) -> None:
    """Once max-age has passed, the next token fetches the certs again."""
    verifier.verify(key.sign(id_claims()))
    clock.advance(601)
    verifier.verify(key.sign(id_claims()))
    assert endpoint.hits == 2


def test_no_store_certs_are_fetched_for_every_token(
    verifier: OidcVerifier, endpoint: CertsEndpoint, key: SigningKey
) -> None:
    """A certs response marked no-store is not cached."""
    endpoint.cache_control = "no-store"
    verifier.verify(key.sign(id_claims()))
    verifier.verify(key.sign(id_claims()))
    assert endpoint.hits == 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, DEFAULT_MAX_AGE),
        ("public, max-age=19512, must-revalidate, no-transform", 19512.0),
        ("max-age=0", 0.0),
        ("private, no-cache", 0.0),
        ("max-age=99999999", LONGEST_MAX_AGE),
        ("max-age=soon", DEFAULT_MAX_AGE),
        ("public", DEFAULT_MAX_AGE),
    ],
)
def test_cache_lifetime_follows_cache_control(header: str | None, seconds: float) -> None:
    """max-age is honoured, capped at a day; no-store/no-cache mean none; absent or garbled fall back."""
    assert max_age(header) == seconds


def test_rotated_key_triggers_one_refetch_and_is_accepted(
    verifier: OidcVerifier, endpoint: CertsEndpoint, key: SigningKey, other_key: SigningKey
) -> None:
    """A token signed by a newly published key (kid not cached) refetches the certs once and passes."""
    verifier.verify(key.sign(id_claims()))
    endpoint.publish(key, other_key)
    assert verifier.verify(other_key.sign(id_claims())) == ACCOUNT
    assert verifier.verify(other_key.sign(id_claims())) == ACCOUNT
    assert endpoint.hits == 2


def test_unknown_kids_refetch_at_most_once_per_interval(
    verifier: OidcVerifier, endpoint: CertsEndpoint, key: SigningKey, clock: ManualClock
) -> None:
    """Tokens naming unknown kids cannot make us hammer the certs endpoint: one refetch per interval."""
    verifier.verify(key.sign(id_claims()))
    for n in range(5):
        refused(verifier, key.sign(id_claims(), kid=f"made-up-{n}"))
    assert endpoint.hits == 2
    clock.advance(REFETCH_INTERVAL)
    refused(verifier, key.sign(id_claims(), kid="made-up-later"))
    assert endpoint.hits == 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_unreachable_certs_endpoint_is_unavailable_not_unauthorized(
    client: httpx.Client, clock: ManualClock, key: SigningKey
) -> None:
    """When the keys cannot be fetched the failure is ours: 503, so Cloud Scheduler retries."""
    certs = CertCache(client, clock, f"http://127.0.0.1:{free_port()}/oauth2/v1/certs")
    with pytest.raises(Unavailable) as caught:
        OidcVerifier(AUDIENCE, ACCOUNTS, certs).verify(key.sign(id_claims()))
    assert caught.value.status == 503
    assert caught.value.retry_after == REFETCH_INTERVAL


def test_certs_endpoint_answering_garbage_is_unavailable(
    endpoint: CertsEndpoint, verifier: OidcVerifier, key: SigningKey
) -> None:
    """A certs response that is not a map of kid to certificate is a 503 too."""
    endpoint.certs = {}
    with pytest.raises(Unavailable):
        verifier.verify(key.sign(id_claims()))


@pytest.mark.parametrize(
    ("audience", "accounts"),
    [(None, ACCOUNTS), ("", ACCOUNTS), (AUDIENCE, frozenset[str]())],
    ids=["no-audience", "empty-audience", "no-accounts"],
)
def test_unconfigured_verifier_refuses_every_token(
    endpoint: CertsEndpoint,
    client: httpx.Client,
    clock: ManualClock,
    key: SigningKey,
    audience: str | None,
    accounts: frozenset[str],
) -> None:
    """Without an audience or accounts even a perfect token is refused (fail closed), nothing fetched."""
    unconfigured = OidcVerifier(audience, accounts, CertCache(client, clock, endpoint.url))
    refused(unconfigured, key.sign(id_claims()))
    assert endpoint.hits == 0


def test_unconfigured_verifier_warns_once(
    endpoint: CertsEndpoint,
    client: httpx.Client,
    clock: ManualClock,
    key: SigningKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The missing configuration is logged as a warning once, not on every request."""
    unconfigured = OidcVerifier(None, ACCOUNTS, CertCache(client, clock, endpoint.url))
    with caplog.at_level(logging.DEBUG, logger="execution_engine"):
        for _ in range(3):
            refused(unconfigured, key.sign(id_claims()))
    assert len([record for record in caplog.records if record.levelno == logging.WARNING]) == 1


def test_no_log_record_contains_the_token(
    verifier: OidcVerifier, key: SigningKey, other_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    """Refusals log their cause, never the token nor any of its segments."""
    claims = id_claims()
    tokens = [
        key.sign(claims),
        key.sign(id_claims(aud="https://elsewhere.example.com")),
        key.sign(id_claims(exp=claims["iat"] - 3600)),
        other_key.sign(claims, kid=key.kid),
        other_key.sign(claims),
        key.sign(claims).replace(".", "..", 1),  # wrong number of segments: google-auth quotes the token
        key.sign(claims)[:-20] + "!!!",
    ]
    with caplog.at_level(logging.DEBUG, logger="execution_engine"):
        for token in tokens:
            with contextlib.suppress(Unauthorized):
                verifier.verify(token)
    logged = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    assert "refused" in logged
    for token in tokens:
        for part in [token, *[piece for piece in token.split(".") if len(piece) > 8]]:
            assert part not in logged
