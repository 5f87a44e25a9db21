"""Which caller a request is: its credentials tried in their fixed order of precedence (README, Calling
the API), the local developer only for a credential-less request from this machine under `make run`."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth.callers import LOCAL_DEVELOPER, Caller, CallerRegistry, Scope
from shared.auth.signatures import SignatureCheck, SignedRequest
from shared.errors import Unauthorized


@dataclass(frozen=True)
class Presented:
    """Every credential a request carries, as the adapter found it."""

    forwarded: str | None = None  # X-Forwarded-Authorization: Bearer (what API Gateway passes on)
    authorization: str | None = None  # Authorization: Bearer
    signature: SignedRequest | None = None  # X-Signature
    body_token: str | None = None  # the JSON body's `token`
    query_token: str | None = None  # `?token=`, read on webhook routes only
    loopback: bool = False  # from a loopback address, with a loopback Host
    # Any credential header or `token` at all, even one that is empty or not a bearer token.
    offered: bool = False


class Authenticator:
    def __init__(
        self,
        registry: CallerRegistry,
        signatures: SignatureCheck,
        *,
        authorization_is_platform: bool = False,
        local_developer: bool = False,
    ) -> None:
        self._registry = registry
        self._signatures = signatures
        # Behind API Gateway, `Authorization` holds the gateway's own token for Cloud Functions' IAM.
        self._authorization_is_platform = authorization_is_platform
        self._local_developer = local_developer

    def authenticate(self, presented: Presented, scope: Scope) -> Caller:
        """The caller with `scope`: 401 without a valid credential, 403 when it lacks the scope."""
        authorization = None if self._authorization_is_platform else presented.authorization
        token = presented.forwarded or authorization
        if token:
            return self._registry.by_token(token).require(scope)
        if presented.signature is not None:
            return self._signatures.verify(presented.signature, scope)
        token = presented.body_token or presented.query_token
        if token:
            return self._registry.by_token(token).require(scope)
        if self._local_developer and presented.loopback and not presented.offered:
            return LOCAL_DEVELOPER
        raise Unauthorized("a credential is required", reason="missing_token")
