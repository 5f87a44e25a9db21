"""Who may call a scheduled entry point: Cloud Scheduler's Google OIDC token, or the dev token on the
emulator. Until OIDC verification lands, production refuses every caller (fail closed)."""

from __future__ import annotations

import hmac

from shared.config import Settings
from shared.errors import Unauthorized


class SchedulerAuth:
    def __init__(self, settings: Settings) -> None:
        self._dev_token = settings.dev_token  # settings refuse a dev token outside the emulator

    def authenticate(self, token: str | None) -> str:
        """The caller's name, or 401 without saying which part was wrong."""
        if not token:
            raise Unauthorized(
                "a scheduled entry point needs Cloud Scheduler's token", reason="missing_token"
            )
        if self._dev_token and hmac.compare_digest(token.encode(), self._dev_token.encode()):
            return "dev"
        raise Unauthorized("the token is not valid for scheduled entry points", reason="invalid_token")
