"""Composition root: the parts every entry point shares, built once per instance from settings and
injected parts, under a gateway that builds each use case on its first use (shared/gateway.py)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx

from shared.alpaca.client import AlpacaClient
from shared.alpaca.credentials import AlpacaCredentials
from shared.audit import AuditLog, Event
from shared.auth.callers import Caller, CallerRegistry, RegistryParser, dev_caller
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.firestore import open_channel
from shared.gateway import Gateway, Shared
from shared.http import LazyTransport, tls_context
from shared.limits.protocol import Limiter
from shared.limits.slots import limiter_from_settings
from shared.secrets import CachedSecrets, SecretManagerReader, SecretReader

log = logging.getLogger("execution_engine")


@dataclass(frozen=True)
class Parts:
    """The wiring under a gateway, for the composition root and for tests that drive one part directly."""

    settings: Settings
    clock: Clock
    db: Any
    limiter: Limiter
    credentials: AlpacaCredentials
    callers: CallerRegistry
    alpaca: AlpacaClient
    transport: LazyTransport | None  # the HTTP client's transport when wire built the client itself
    gateway: Gateway


def _caller_loader(settings: Settings, secrets: CachedSecrets, parse: RegistryParser) -> Iterable[Caller]:
    callers: list[Caller] = []
    if settings.dev_token:
        callers.append(dev_caller(settings.dev_token))
    if settings.callers_json:
        callers.extend(parse(settings.callers_json))
    elif not settings.dev_token:
        callers.extend(parse(secrets.get(settings.callers_secret)))
    return callers


def _backoff_notice(audit: AuditLog, key: str, until: float, status: int) -> None:
    """One `limiter.backoff` event per key and reset time, however many instances notice it."""
    reset = datetime.fromtimestamp(until, UTC)
    event_id = f"limiter-backoff-{key}-{int(until)}"
    audit.record_once(event_id, Event.LIMITER_BACKOFF, "limiter", key=key, until=reset, status=status)


def firestore_client(settings: Settings) -> Any:
    from google.cloud import firestore

    return firestore.Client(project=settings.google_cloud_project or "execution-engine-local")


def http_client(settings: Settings, transport: httpx.BaseTransport) -> httpx.Client:
    """The instance's client for Alpaca, webhooks and OIDC certificates."""
    timeout = httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds, pool=2.0)
    return httpx.Client(timeout=timeout, transport=transport)


def http_transport(settings: Settings) -> LazyTransport:
    """The connection pool behind `http_client`, built (httpcore's import, the TLS context) by the first
    request that goes out or by the warm-up, not by the gateway's build: an entry point that never calls
    upstream never pays for it."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)

    def build() -> httpx.HTTPTransport:
        return httpx.HTTPTransport(verify=tls_context(settings.ca_file, settings.ca_dir), limits=limits)

    return LazyTransport(build)


def wire(
    settings: Settings,
    *,
    http: httpx.Client | None = None,
    db: Any = None,
    clock: Clock | None = None,
    limiter: Limiter | None = None,
    secret_reader: SecretReader | None = None,
) -> Parts:
    """Build every part. Tests pass their own transport, Firestore client, clock and secret reader."""
    clock = clock or SystemClock()
    db = db if db is not None else firestore_client(settings)
    secrets = CachedSecrets(
        secret_reader or SecretManagerReader.from_settings(settings), clock, settings.secrets_ttl_seconds
    )
    credentials = AlpacaCredentials(settings, secrets)
    audit = AuditLog(db, clock)
    limiter = limiter or limiter_from_settings(settings, db, clock, partial(_backoff_notice, audit))
    transport: LazyTransport | None = None  # ours to open ahead of the first request; not an injected one
    if http is None:
        transport = http_transport(settings)
        http = http_client(settings, transport)
    alpaca = AlpacaClient(
        http,
        base_url=settings.alpaca_base_url,
        data_url=settings.alpaca_data_url,
        credentials=credentials,
        limiter=limiter,
        clock=clock,
    )
    registry = CallerRegistry(partial(_caller_loader, settings, secrets, RegistryParser()))
    gateway = Gateway(Shared(settings, clock, db, http, secrets, credentials, audit, alpaca, registry))
    return Parts(settings, clock, db, limiter, credentials, registry, alpaca, transport, gateway)


def build(settings: Settings, **parts: Any) -> Gateway:
    """The gateway over freshly wired parts (see `wire` for what may be injected)."""
    return wire(settings, **parts).gateway


_lock = threading.Lock()
_gateway: Gateway | None = None
_warms_workers = False


def gateway() -> Gateway:
    """The instance's gateway, built on first use from the environment (thread-safe)."""
    global _gateway
    if _gateway is None:
        with _lock:
            if _gateway is None:
                _gateway = build(Settings.from_env())
    return _gateway


def install(instance: Gateway | None) -> None:
    """Replace (or with None, forget) the instance's gateway, closing the one replaced: the seam tests
    use to inject parts."""
    global _gateway
    with _lock:
        replaced, _gateway = _gateway, instance
    if replaced is not None and replaced is not instance:
        replaced.close()


def warm_up() -> Gateway | None:
    """Build the instance's gateway from the environment, open its Firestore channel, read the secrets
    every request needs and build the HTTP transport (last: only the entry points calling upstream need
    it), ahead of the first request: that request finds them ready, or waits on the lock for the build it
    would have made itself. A gateway already there (built, or put in by `install`) is
    kept as it is. Never raises: after a failed step the first request does that step itself, as before,
    and answers its own error."""
    global _gateway
    try:
        with _lock:
            if _gateway is not None:
                return _gateway
            parts = wire(Settings.from_env())
            _gateway = parts.gateway
    except Exception as exc:
        log.warning(
            "warm-up could not build the gateway (%s); the first request builds it", type(exc).__name__
        )
        return None
    steps: list[tuple[str, Callable[[], object]]] = [
        ("reach Firestore", partial(open_channel, parts.db)),
        ("read the Alpaca keys", parts.credentials.current),
        ("read the caller registry", parts.callers.known),
    ]
    if parts.transport is not None:
        steps.append(("build the HTTP transport", parts.transport.open))
    for step, run in steps:
        try:
            run()
        except Exception as exc:  # only the name: a secret's failure may quote what it read
            log.warning("warm-up could not %s (%s); the first request tries again", step, type(exc).__name__)
    return parts.gateway


def warm_up_workers() -> None:
    """Warm every worker process forked from this one (gunicorn's, as functions-framework serves on Cloud
    Functions) in a daemon thread, overlapping the worker's own start. Only a fork starts it: a process that
    imports main and never forks (tests, the local server) builds on first use, as before, and a thread
    started before the fork would not survive it, nor would a gRPC channel opened there."""
    global _warms_workers
    if not _warms_workers:
        _warms_workers = True
        os.register_at_fork(after_in_child=_start_warm_up)


def _start_warm_up() -> None:
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
