"""Secrets from Secret Manager behind a per-instance TTL cache (the Alpaca keys, the caller registry)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from shared.clock import Clock
from shared.config import Settings
from shared.errors import Unavailable


class SecretReader(Protocol):
    def read(self, name: str) -> str:
        """The latest version of secret `name`; raise Unavailable when it cannot be read."""
        ...


class SecretManagerReader:
    """Reads `projects/{project}/secrets/{name}/versions/latest`; the client is made on first use."""

    def __init__(self, project: str | None, make_client: Callable[[], Any]) -> None:
        self._project = project
        self._make_client = make_client
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretManagerReader:
        return cls(settings.google_cloud_project, lambda: _secret_manager_client(settings))

    def _connected(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def read(self, name: str) -> str:
        if not self._project:
            raise Unavailable("no GOOGLE_CLOUD_PROJECT to read secrets from", reason="secrets_unavailable")
        client = self._connected()
        path = f"projects/{self._project}/secrets/{name}/versions/latest"
        try:
            response = client.access_secret_version(request={"name": path})
        except Exception as exc:  # any client failure means the secret is not available now
            raise Unavailable(
                f"secret {name} could not be read", reason="secrets_unavailable", retry_after=1
            ) from exc
        return str(response.payload.data.decode("utf-8")).strip()


def _secret_manager_client(settings: Settings) -> Any:
    from google.cloud import secretmanager

    if settings.secret_manager_endpoint:
        from google.auth.credentials import AnonymousCredentials

        return secretmanager.SecretManagerServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": settings.secret_manager_endpoint},
        )
    return secretmanager.SecretManagerServiceClient()


class CachedSecrets:
    """A TTL cache in front of a SecretReader; `invalidate` forces the next read to go upstream."""

    def __init__(self, reader: SecretReader, clock: Clock, ttl_seconds: float) -> None:
        self._reader = reader
        self._clock = clock
        self._ttl = ttl_seconds
        self._values: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> str:
        with self._lock:
            cached = self._values.get(name)
            if cached and self._clock.now() - cached[0] < self._ttl:
                return cached[1]
        value = self._reader.read(name)
        with self._lock:
            self._values[name] = (self._clock.now(), value)
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._values.clear()
