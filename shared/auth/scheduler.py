"""Who may call a scheduled entry point: Cloud Scheduler with a Google OIDC ID token, or the dev token
on the emulator. A caller's API token is never accepted here."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from shared.errors import Unauthorized


class SchedulerAuth:
    def __init__(self, dev_token: str | None, verify_oidc: Callable[[str], str]) -> None:
        self._dev_token = dev_token  # settings refuse a dev token outside the emulator
        self._verify_oidc = verify_oidc

    def authenticate(self, token: str | None) -> str:
        """The caller's name (the service account's email, or `dev`); 401 without saying what was wrong."""
        if not token:
            raise Unauthorized(
                "a scheduled entry point needs Cloud Scheduler's token", reason="missing_token"
            )
        if self._dev_token and hmac.compare_digest(token.encode(), self._dev_token.encode()):
            return "dev"
        return self._verify_oidc(token)
