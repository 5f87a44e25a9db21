"""The credential matrix's parts: a registry with callers of each scope set, a potent and a harmless request
per route, each credential kind (bearer headers, X-Signature, body and query token) put on a request, and
`Matrix`, one test's gateway on the module's Desk with the checks of its answers."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from functions.routes import BASE_PATH, ROUTES, Route
from shared.app import build, install
from shared.auth.callers import Scope
from shared.auth.signatures import HEADER, signature
from shared.clock import ManualClock
from tests.auth.oidc_keys import ACCOUNT, AUDIENCE
from tests.gateway.conftest import Reply, entry_client
from tests.security.conftest import Book, Desk
from tests.support.env import GENEROUS_BUDGET, gateway_settings


@dataclass(frozen=True)
class Identity:
    """A caller as the registry lists it, with the token and signing secret it would present."""

    name: str
    scopes: tuple[Scope, ...]
    token: str
    secret: str | None = field(default=None, repr=False)

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.name,
            "scopes": [s.value for s in self.scopes],
            "token_sha256": hashlib.sha256(self.token.encode()).hexdigest(),
        }
        if self.secret is not None:
            entry["signing_secret"] = self.secret
        return entry


DASHBOARD = Identity("dashboard", (Scope.READ,), "dashboard-token-5a1e", "dashboard-signing-secret-8c2f41")
TRADINGVIEW = Identity("tradingview", (Scope.TRADE,), "tradingview-token-77d0", "tradingview-secret-3e9b5")
ROOT = Identity("root", tuple(Scope), "root-token-c4f8", "root-signing-secret-0b6d2a9e")
LEGACY = Identity("legacy", tuple(Scope), "legacy-token-9e13")  # a token only: no signing secret
IDENTITIES = (DASHBOARD, TRADINGVIEW, ROOT, LEGACY)
CALLERS = json.dumps([identity.entry() for identity in IDENTITIES])
UNKNOWN_TOKEN = "not-a-registered-token-0000"
WRONG_TOKENS = {
    "unknown": UNKNOWN_TOKEN,
    "registry-hash": str(ROOT.entry()["token_sha256"]),  # the stored hash is not the token
}
WRONG_SECRET = "a-secret-nobody-registered-42"
FORWARDED = "X-Forwarded-Authorization"
BEARER_HEADERS = {"authorization": "Authorization", "forwarded": FORWARDED}
PLACEHOLDER_SECRET = "\x00" * 32  # what the check signs with for a caller without a secret


def lacking(scope: Scope) -> Identity:
    """A registered caller without `scope`."""
    return next(i for i in (DASHBOARD, TRADINGVIEW) if scope not in i.scopes)


def credential_routes() -> list[Route]:
    """Every route that needs a credential (a route with no scope, such as an OpenAPI document, is public)."""
    return [route for route in ROUTES if getattr(route, "scope", None) is not None]


def takes_body(route: Route) -> bool:
    return route.method in ("POST", "PUT", "PATCH")


ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}
# What each route is sent when it must be refused: a request that would act (or read) if it were let in.
POTENT: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "close_position": ("/positions/AAPL/close", "", {"percentage": "100"}),
    "list_orders": ("/orders", "status=all", None),
    "place_order": ("/orders", "", ORDER),
    "list_trades": ("/trades", "limit=5", None),
    "put_risk": ("/risk", "", {"trading_state": "halted"}),
    "list_audit": ("/audit", "limit=5", None),
    "flatten_now": ("/flatten", "", {}),
    "put_notifications": ("/notifications", "", {"targets": []}),
}
# What a request that passes authentication is sent: it fails its own validation, or only reads.
HARMLESS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "close_position": ("/positions/AAPL/close", "", {"percentage": "0"}),
    "list_orders": ("/orders", "status=bogus", None),
    "place_order": ("/orders", "", {k: v for k, v in ORDER.items() if k != "qty"}),
    "get_order": ("/orders/not-an-order-id", "", None),
    "cancel_order": ("/orders/not-an-order-id", "", None),
    "list_trades": ("/trades", "limit=0", None),
    "put_risk": ("/risk", "", {"no_such_setting": True}),
    "list_audit": ("/audit", "since=yesterday", None),
    "flatten_now": ("/flatten", "", {"asset_classes": ["bogus"]}),
    "put_notifications": ("/notifications", "", {"targets": "not-a-list"}),
    "replay_failed_notification": ("/notifications/failed/" + "0" * 32 + "/replay", "", None),  # none such
}
EXAMPLE_PARAMS = {"symbol": "AAPL", "order_id": "{resting}", "dead_letter_id": "0" * 32}


@dataclass(frozen=True)
class Sent:
    """One request as it goes out: the public path, the raw query string and body, the headers."""

    target: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def signed_path(self) -> str:
        """What a signature covers: the public path with its query string."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def header(self, name: str, value: str) -> Sent:
        return replace(self, headers={**self.headers, name: value})

    def bearer(self, token: str, name: str = "Authorization") -> Sent:
        return self.header(name, f"Bearer {token}")

    def query_token(self, token: str) -> Sent:
        return replace(self, query="&".join(q for q in (self.query, f"token={token}") if q))

    def signed(
        self,
        key: str,
        secret: str,
        t: int,
        *,
        method: str | None = None,
        path: str | None = None,
        body: bytes | None = None,
    ) -> Sent:
        """X-Signature over this request, or over the method, path or body given instead of its own."""
        covered = (self.signed_path if path is None else path, self.body if body is None else body)
        v1 = signature(secret, t, method or self.method, *covered)
        return self.header(HEADER, f"keyId={key},t={t},v1={v1}")


def compose(
    route: Route, ids: Mapping[str, str], *, harmless: bool = False, body_token: str | None = None
) -> Sent:
    """The route's potent (or harmless) request, with `body_token` as the JSON body's `token`."""
    table = HARMLESS if harmless else POTENT
    if route.entry_point in table:
        path, query, body = table[route.entry_point]
    else:
        if harmless and (route.method != "GET" or route.params):
            raise LookupError(f"no harmless request for {route.entry_point}: add one to HARMLESS")
        path = re.sub(r"{(\w+)}", lambda m: EXAMPLE_PARAMS[m[1]], route.path)
        query, body = "", ({} if takes_body(route) else None)
    if body_token is not None:
        body = {**(body or {}), "token": body_token}
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    raw = json.dumps(body).encode() if body is not None else b""
    return Sent(route.entry_point, route.method, BASE_PATH + path, query, raw)


def send(sent: Sent) -> Reply:
    """Send through the functions-framework app of the entry point and decode its JSON answer."""
    headers = dict(sent.headers)
    kwargs: dict[str, Any] = {"headers": headers, "query_string": sent.query}
    if sent.body:
        kwargs["data"] = sent.body
        kwargs["content_type"] = "application/json"
    response = entry_client(sent.target).open(sent.path, method=sent.method, **kwargs)
    text = response.get_data(as_text=True)
    try:
        body = json.loads(text) if text else None
    except json.JSONDecodeError:
        raise AssertionError(f"{sent.method} {sent.path} answered a non-JSON body: {text[:120]!r}") from None
    return Reply(response.status_code, body, dict(response.headers), text)


def leaked(reply: Reply) -> list[str]:
    """Names of the callers whose token or signing secret the answer repeats."""
    return [
        i.name
        for i in IDENTITIES
        if i.token in reply.text or (i.secret is not None and i.secret in reply.text)
    ]


def documents(db: Any) -> dict[str, tuple[str, ...]]:
    """Every top-level collection's document ids: signatures, settings, eod runs and the rest included."""
    return {c.id: tuple(sorted(d.id for d in c.stream())) for c in db.collections()}


@dataclass
class Matrix:
    """One test's gateway (its own registry and clock) on the module's Desk, and the checks of its answers."""

    desk: Desk
    book: Book
    certs_url: str
    now: int  # the gateway's injected clock
    before: dict[str, tuple[str, ...]]

    def install(self, *, behind_api_gateway: bool = False, local_developer: bool = False) -> None:
        settings = gateway_settings(
            self.desk.sandbox.url,
            self.desk.emulator,
            self.desk.project,
            GATEWAY_CALLERS=CALLERS,
            GATEWAY_DEV_TOKEN=None,
            GATEWAY_LOCAL_DEVELOPER="true" if local_developer else "false",
            BEHIND_API_GATEWAY="true" if behind_api_gateway else "false",
            OIDC_AUDIENCE=AUDIENCE,
            SCHEDULER_SERVICE_ACCOUNTS=ACCOUNT,
            OIDC_CERTS_URL=self.certs_url,
            ALPACA_READ_TIMEOUT_SECONDS="1",
            RATE_LIMIT_PER_MINUTE=GENEROUS_BUDGET,
        )
        clock = ManualClock(float(self.now))
        install(build(settings, http=self.desk.upstream_http, db=self.desk.db, clock=clock))

    def request(self, route: Route, *, harmless: bool = False, body_token: str | None = None) -> Sent:
        return compose(route, {"resting": self.book.resting}, harmless=harmless, body_token=body_token)

    def credentialed(
        self, route: Route, kind: str, who: Identity, *, harmless: bool = False, token: str | None = None
    ) -> Sent:
        """The route's request carrying `who`'s credential of `kind` (or `token` in its place)."""
        token = token or who.token
        if kind == "body":
            return self.request(route, harmless=harmless, body_token=token)
        sent = self.request(route, harmless=harmless)
        if kind == "query":
            return sent.query_token(token)
        if kind == "signature":
            assert who.secret is not None
            return sent.signed(who.name, who.secret, self.now)
        return sent.bearer(token, BEARER_HEADERS[kind])

    def refused(self, reply: Reply, status: int, reason: str) -> None:
        """The JSON refusal, and nothing sent upstream, recorded, changed or remembered."""
        after = self.desk.snapshot()
        answered = f"answered {reply.status} {reply.text[:200]}"
        assert after.upstream == self.book.before.upstream, f"the request reached Alpaca; {answered}"
        assert after == self.book.before, answered
        assert documents(self.desk.db) == self.before, f"Firestore was written; {answered}"
        body = reply.body if isinstance(reply.body, dict) else {}
        assert (reply.status, body.get("error"), body.get("code")) == (status, reason, status), reply.text
        assert not leaked(reply), reply.text
        self.desk.untouched(after)

    def authenticated(self, reply: Reply) -> None:
        """Let in (whatever the request's own merits made of it), having acted on nothing."""
        assert reply.status not in (401, 403), reply.text
        assert reply.status < 500, reply.text
        after = self.desk.snapshot()
        before = self.book.before
        assert (after.positions, after.orders) == (before.positions, before.orders)
        assert (after.audit, after.records) == (before.audit, before.records)
        self.desk.untouched(after)
