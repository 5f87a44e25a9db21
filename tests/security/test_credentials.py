"""On every route and for every credential kind, a missing, wrong, expired, replayed or under-scoped
credential is refused with 401 or 403 before anything reaches Alpaca or Firestore.

Refused requests are potent ones (they would close, place, cancel or halt if let in) against the module's
pristine Desk book; a positive control per route and kind shows each credential is otherwise accepted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from functions.routes import BASE_PATH, Route
from shared.auth.signatures import HEADER, TOLERANCE_SECONDS
from tests.security.credentials import (
    DASHBOARD,
    FORWARDED,
    LEGACY,
    PLACEHOLDER_SECRET,
    ROOT,
    UNKNOWN_TOKEN,
    WRONG_SECRET,
    WRONG_TOKENS,
    Matrix,
    Sent,
    credential_routes,
    documents,
    lacking,
    send,
    takes_body,
)
from tests.security.matrix_fixtures import certs, matrix, oidc_key, stranger_key

__all__ = ["certs", "matrix", "oidc_key", "stranger_key"]  # fixtures used by name


def route_params(select: Callable[[Route], bool] = lambda route: True) -> list[Any]:
    return [pytest.param(r, id=r.entry_point) for r in credential_routes() if select(r)]


def kinds(route: Route) -> list[str]:
    """The credential kinds a route accepts."""
    found = ["authorization", "forwarded", "signature"]
    return found + ["body"] * takes_body(route) + ["query"] * route.webhook


def route_kinds(*allowed: str) -> list[Any]:
    return [
        pytest.param(route, kind, id=f"{route.entry_point}-{kind}")
        for route in credential_routes()
        for kind in kinds(route)
        if not allowed or kind in allowed
    ]


ROUTES = route_params()
# The variants of a fault that do not depend on the route run on these only (one read, a path parameter,
# the webhook POST, the admin PUT); the route-dependent ones run on every route.
REPRESENTATIVE = frozenset({"get_account", "cancel_order", "place_order", "put_risk"})


def spread(variants: Iterable[str], *allowed: str, everywhere: int = 1) -> list[Any]:
    """(route[, kind], variant) cases: the first `everywhere` variants on every route (and kind in
    `allowed`, if named), the others on the REPRESENTATIVE routes."""
    names = list(variants)
    cases = route_kinds(*allowed) if allowed else ROUTES
    return [
        pytest.param(*case.values, name, id=f"{case.id}-{name}")
        for case in cases
        for name in names
        if name in names[:everywhere] or case.values[0].entry_point in REPRESENTATIVE
    ]


# -- missing ---------------------------------------------------------------------------------------

MISSING: dict[str, Callable[[Sent], Sent]] = {
    "nothing": lambda s: s,
    "basic-scheme": lambda s: s.header("Authorization", "Basic cm9vdDpyb290"),
    "empty-bearer": lambda s: s.header("Authorization", "Bearer "),
    "token-without-scheme": lambda s: s.header("Authorization", ROOT.token),
    "forwarded-basic-scheme": lambda s: s.header(FORWARDED, "Basic cm9vdDpyb290"),
}


@pytest.mark.parametrize(("route", "variant"), spread(MISSING))
def test_request_without_a_credential_is_refused_without_touching_anything(
    matrix: Matrix, route: Route, variant: str
) -> None:
    """No credential (or none in a form we read) is 401 missing_token, the local developer being off."""
    reply = send(MISSING[variant](matrix.request(route)))
    matrix.refused(reply, 401, "missing_token")


@pytest.mark.parametrize("route", route_params(lambda r: not r.webhook))
def test_query_token_outside_the_webhook_routes_is_ignored(matrix: Matrix, route: Route) -> None:
    """A valid `?token=` on a route that is not a webhook is not read: 401 missing_token."""
    reply = send(matrix.request(route).query_token(ROOT.token))
    matrix.refused(reply, 401, "missing_token")


# -- wrong -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "kind", "wrong"), spread(WRONG_TOKENS, "authorization", "forwarded", "body", "query")
)
def test_wrong_token_is_refused_without_touching_anything(
    matrix: Matrix, route: Route, kind: str, wrong: str
) -> None:
    """An unregistered token (the registry's own hash among them) is 401 invalid_token in every place."""
    reply = send(matrix.credentialed(route, kind, ROOT, token=WRONG_TOKENS[wrong]))
    matrix.refused(reply, 401, "invalid_token")


def _other_method(s: Sent) -> str:
    return "POST" if s.method == "GET" else "GET"


def _other_query(s: Sent) -> str:
    return s.signed_path + ("&" if s.query else "?") + "limit=1"


def _uppercase(s: Sent, now: int) -> Sent:
    header = s.signed(ROOT.name, str(ROOT.secret), now).headers[HEADER]
    key, t, v1 = header.split(",")
    return s.header(HEADER, f"{key},{t},{v1.upper().replace('V1=', 'v1=')}")


BAD_SIGNATURES: dict[str, Callable[[Sent, int], Sent]] = {
    "wrong-secret": lambda s, now: s.signed(ROOT.name, WRONG_SECRET, now),
    "unknown-key-id": lambda s, now: s.signed("nobody", str(ROOT.secret), now),
    "another-path": lambda s, now: s.signed(ROOT.name, str(ROOT.secret), now, path=BASE_PATH + "/elsewhere"),
    "another-query": lambda s, now: s.signed(ROOT.name, str(ROOT.secret), now, path=_other_query(s)),
    "another-method": lambda s, now: s.signed(ROOT.name, str(ROOT.secret), now, method=_other_method(s)),
    "another-body": lambda s, now: s.signed(ROOT.name, str(ROOT.secret), now, body=s.body + b" "),
    "another-callers-secret": lambda s, now: s.signed(ROOT.name, str(DASHBOARD.secret), now),
    "caller-without-secret": lambda s, now: s.signed(LEGACY.name, PLACEHOLDER_SECRET, now),
    "uppercase-hex": _uppercase,
    "malformed": lambda s, now: s.header(HEADER, f"keyId=root,t={now},v1=not-hex"),
    "bare-hex": lambda s, now: s.header(HEADER, "0" * 64),
}


@pytest.mark.parametrize(("route", "variant"), spread(BAD_SIGNATURES, everywhere=6))
def test_wrong_signature_is_refused_without_touching_anything(
    matrix: Matrix, route: Route, variant: str
) -> None:
    """A signature by a wrong secret or unknown caller, over other bytes, malformed: 401 invalid_signature."""
    reply = send(BAD_SIGNATURES[variant](matrix.request(route), matrix.now))
    matrix.refused(reply, 401, "invalid_signature")


# -- expired and replayed --------------------------------------------------------------------------

STALE = {
    "301-s-old": -TOLERANCE_SECONDS - 1,
    "301-s-ahead": TOLERANCE_SECONDS + 1,
    "a-day-old": -86_400,
}


@pytest.mark.parametrize(("route", "stale"), spread(STALE, everywhere=2))
def test_stale_signature_is_refused_as_expired(matrix: Matrix, route: Route, stale: str) -> None:
    """A correct signature whose `t` is over 300 s from the gateway's clock is 401 signature_expired."""
    reply = send(matrix.request(route).signed(ROOT.name, str(ROOT.secret), matrix.now + STALE[stale]))
    matrix.refused(reply, 401, "signature_expired")


def test_signature_time_is_judged_by_the_gateways_clock(matrix: Matrix) -> None:
    """A signature made now by the system clock is expired when the gateway's clock is elsewhere."""
    system_now = int(time.time())
    assert abs(system_now - matrix.now) > TOLERANCE_SECONDS, "the test needs the two clocks apart"
    route = next(r for r in credential_routes() if r.entry_point == "place_order")
    reply = send(matrix.request(route).signed(ROOT.name, str(ROOT.secret), system_now))
    matrix.refused(reply, 401, "signature_expired")


@pytest.mark.parametrize("offset", [-TOLERANCE_SECONDS, TOLERANCE_SECONDS], ids=["300-s-old", "300-s-ahead"])
@pytest.mark.parametrize("route", route_params(lambda r: r.entry_point in REPRESENTATIVE))
def test_signature_at_the_edge_of_the_tolerance_is_accepted(
    matrix: Matrix, route: Route, offset: int
) -> None:
    """Positive control for expiry: exactly 300 s either side of the gateway's clock is still in time."""
    reply = send(
        matrix.request(route, harmless=True).signed(ROOT.name, str(ROOT.secret), matrix.now + offset)
    )
    matrix.authenticated(reply)


@pytest.mark.parametrize("route", ROUTES)
def test_replayed_signature_is_refused_without_touching_anything(matrix: Matrix, route: Route) -> None:
    """The same signed request twice: the first is let in on its merits, the second is signature_replayed."""
    signed = matrix.request(route, harmless=True).signed(ROOT.name, str(ROOT.secret), matrix.now)
    matrix.authenticated(send(signed))
    # What the first did (a read's upstream call, the remembered signature) is the second's baseline.
    matrix.book = matrix.desk.ready(None)
    remembered = documents(matrix.desk.db)
    assert len(remembered.get("signatures", ())) == len(matrix.before.get("signatures", ())) + 1
    matrix.before = remembered
    matrix.refused(send(signed), 401, "signature_replayed")


# -- under-scoped ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("route", "kind"), route_kinds())
def test_under_scoped_credential_is_refused_without_touching_anything(
    matrix: Matrix, route: Route, kind: str
) -> None:
    """A valid caller without the route's scope is 403 insufficient_scope; a signature is not remembered."""
    reply = send(matrix.credentialed(route, kind, lacking(route.scope)))
    matrix.refused(reply, 403, "insufficient_scope")


# -- precedence ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shadow:
    """A refused credential beside a valid one of lower precedence, and the refusal it must still get."""

    applies: Callable[[Route], bool]
    build: Callable[[Matrix, Route], Sent]
    status: int
    reason: str


def _everywhere(route: Route) -> bool:
    return True


SHADOWS: dict[str, Shadow] = {
    "wrong-forwarded-over-valid-authorization": Shadow(
        _everywhere,
        lambda m, r: m.request(r).bearer(ROOT.token).bearer(UNKNOWN_TOKEN, FORWARDED),
        401,
        "invalid_token",
    ),
    "under-scoped-forwarded-over-valid-authorization": Shadow(
        _everywhere,
        lambda m, r: m.request(r).bearer(ROOT.token).bearer(lacking(r.scope).token, FORWARDED),
        403,
        "insufficient_scope",
    ),
    "wrong-bearer-over-valid-signature": Shadow(
        _everywhere,
        lambda m, r: m.request(r).signed(ROOT.name, str(ROOT.secret), m.now).bearer(UNKNOWN_TOKEN),
        401,
        "invalid_token",
    ),
    "wrong-signature-over-valid-body-token": Shadow(
        takes_body,
        lambda m, r: m.request(r, body_token=ROOT.token).signed(ROOT.name, WRONG_SECRET, m.now),
        401,
        "invalid_signature",
    ),
    "under-scoped-signature-over-valid-body-token": Shadow(
        takes_body,
        lambda m, r: m.request(r, body_token=ROOT.token).signed(
            lacking(r.scope).name, str(lacking(r.scope).secret), m.now
        ),
        403,
        "insufficient_scope",
    ),
    "wrong-body-token-over-valid-query-token": Shadow(
        lambda r: r.webhook,
        lambda m, r: m.request(r, body_token=UNKNOWN_TOKEN).query_token(ROOT.token),
        401,
        "invalid_token",
    ),
}


@pytest.mark.parametrize(
    ("route", "shadow"),
    [
        pytest.param(route, name, id=f"{route.entry_point}-{name}")
        for route in credential_routes()
        for name, shadow in SHADOWS.items()
        if shadow.applies(route)
    ],
)
def test_refused_credential_is_not_rescued_by_a_valid_one_of_lower_precedence(
    matrix: Matrix, route: Route, shadow: str
) -> None:
    """The first credential present decides: a valid one further down the order is never tried."""
    case = SHADOWS[shadow]
    matrix.refused(send(case.build(matrix, route)), case.status, case.reason)


BEHIND: dict[str, tuple[Callable[[Sent], Sent], str]] = {
    "valid-authorization-alone": (lambda s: s.bearer(ROOT.token), "missing_token"),
    "wrong-forwarded-beside-valid-authorization": (
        lambda s: s.bearer(ROOT.token).bearer(UNKNOWN_TOKEN, FORWARDED),
        "invalid_token",
    ),
}


@pytest.mark.parametrize("variant", BEHIND)
@pytest.mark.parametrize("route", ROUTES)
def test_authorization_header_is_the_platforms_behind_api_gateway(
    matrix: Matrix, route: Route, variant: str
) -> None:
    """With BEHIND_API_GATEWAY, `Authorization` is never a caller's credential, even a valid one: 401."""
    matrix.install(behind_api_gateway=True)
    dress, reason = BEHIND[variant]
    matrix.refused(send(dress(matrix.request(route))), 401, reason)


# -- positive controls -------------------------------------------------------------------------------


@pytest.mark.parametrize(("route", "kind"), route_kinds())
def test_valid_credential_of_each_kind_passes_authentication(matrix: Matrix, route: Route, kind: str) -> None:
    """Positive control: the caller with every scope is let in by each kind the route accepts."""
    matrix.authenticated(send(matrix.credentialed(route, kind, ROOT, harmless=True)))


@pytest.mark.parametrize("route", ROUTES)
def test_forwarded_token_is_the_callers_behind_api_gateway(matrix: Matrix, route: Route) -> None:
    """Positive control: behind API Gateway the forwarded token is used, the platform's token ignored."""
    matrix.install(behind_api_gateway=True)
    sent = matrix.request(route, harmless=True).bearer("platform-iam-token").bearer(ROOT.token, FORWARDED)
    matrix.authenticated(send(sent))


LOCAL_WRONG: dict[str, Callable[[Matrix, Route], Sent]] = {
    "authorization": lambda m, r: m.request(r).bearer(UNKNOWN_TOKEN),
    "forwarded": lambda m, r: m.request(r).bearer(UNKNOWN_TOKEN, FORWARDED),
    "signature": lambda m, r: m.request(r).signed(ROOT.name, WRONG_SECRET, m.now),
    "body": lambda m, r: m.request(r, body_token=UNKNOWN_TOKEN),
    "query": lambda m, r: m.request(r).query_token(UNKNOWN_TOKEN),
}


@pytest.mark.parametrize("kind", ["authorization", "forwarded", "signature", "body", "query"])
def test_local_developer_mode_does_not_rescue_a_wrong_credential(matrix: Matrix, kind: str) -> None:
    """Under `make run` a loopback request without credentials is the developer; a wrong one is still 401."""
    matrix.install(local_developer=True)
    route = next(r for r in credential_routes() if r.entry_point == "place_order")
    reply = send(LOCAL_WRONG[kind](matrix, route))
    matrix.refused(reply, 401, "invalid_signature" if kind == "signature" else "invalid_token")


def test_local_developer_mode_lets_in_a_credential_less_loopback_request(matrix: Matrix) -> None:
    """Positive control for the test above: the mode is on, so nothing at all from loopback is let in."""
    matrix.install(local_developer=True)
    route = next(r for r in credential_routes() if r.entry_point == "place_order")
    matrix.authenticated(send(matrix.request(route, harmless=True)))
