"""The Alpaca key pair (env values first, else two Secret Manager secrets) and the key's fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from shared.config import Settings
from shared.errors import Unavailable
from shared.secrets import CachedSecrets


@dataclass(frozen=True)
class Credentials:
    key_id: str = field(repr=False)
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return "Credentials(***)"


def key_fingerprint(key_id: str) -> str:
    """A stable, non-reversible name for an API key (limiter documents, logs)."""
    return hashlib.sha256(key_id.encode()).hexdigest()[:32]


class AlpacaCredentials:
    """The Alpaca key pair: ALPACA_API_KEY/ALPACA_SECRET_KEY when set, else the two named secrets."""

    def __init__(self, settings: Settings, secrets: CachedSecrets) -> None:
        self._settings = settings
        self._secrets = secrets

    def current(self) -> Credentials:
        if self._settings.alpaca_api_key and self._settings.alpaca_secret_key:
            return Credentials(self._settings.alpaca_api_key, self._settings.alpaca_secret_key)
        return Credentials(
            self._secrets.get(self._settings.alpaca_api_key_secret),
            self._secrets.get(self._settings.alpaca_secret_key_secret),
        )

    def refresh(self) -> Credentials:
        """Re-read the keys after Alpaca refused them, so a rotation needs no redeploy."""
        self._secrets.invalidate()
        return self.current()

    def configured(self) -> tuple[bool, bool]:
        """Whether a key id and a secret are available, without revealing either."""
        try:
            creds = self.current()
        except Unavailable:
            return (False, False)
        return (bool(creds.key_id), bool(creds.secret))
