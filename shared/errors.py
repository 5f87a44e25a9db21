"""The one error tree: every failure the gateway reports, each class with its HTTP status and reason.

    GatewayError                 500 internal_error: the base; `reason` stable, `message` for people
    ├── ConfigError              500 configuration_error
    ├── BadRequest               400    ├── Unauthorized   401    ├── Forbidden        403
    ├── NotFound                 404    ├── MethodNotAllowed 405  ├── Conflict         409
    ├── PayloadTooLarge          413    ├── UnsupportedMediaType 415
    ├── Unprocessable            422    an order rule, named by `reason`
    ├── RateLimited   + NothingSent  429  our limiter, or the broker's 429: nothing was acted on
    ├── Unavailable   + NothingSent  503  a dependency unreachable before anything was sent
    └── BrokerFailure                    the broker failed after the request may have reached it
        ├── UpstreamError        502
        └── UpstreamTimeout      504

`NothingSent` marks errors raised before a request reached the broker (or refused untouched), so the
order path frees the idempotency key for them instead of looking the order up. Errors are translated
to JSON only at the edges (functions/_edge.py).
"""

from __future__ import annotations

from typing import Any, ClassVar


class GatewayError(Exception):
    """Base of every error we answer with. `extra` holds further JSON fields (Alpaca's `buying_power`)."""

    status: ClassVar[int] = 500
    default_reason: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        retry_after: float | None = None,
        upstream_status: int | None = None,
        upstream_code: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.retry_after = retry_after
        self.upstream_status = upstream_status
        self.upstream_code = upstream_code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        typed = {
            "retry_after": self.retry_after,
            "upstream_status": self.upstream_status,
            "upstream_code": self.upstream_code,
        }
        known = {name: value for name, value in typed.items() if value is not None}
        return {"error": self.reason, "message": self.message, "code": self.status, **known, **self.extra}


class NothingSent:
    """A marker: the broker never acted on the request that failed this way."""


class ConfigError(GatewayError):
    default_reason = "configuration_error"


class BadRequest(GatewayError):
    status = 400
    default_reason = "bad_request"


class Unauthorized(GatewayError):
    status = 401
    default_reason = "unauthorized"


class Forbidden(GatewayError):
    status = 403
    default_reason = "forbidden"


class NotFound(GatewayError):
    status = 404
    default_reason = "not_found"


class MethodNotAllowed(GatewayError):
    status = 405
    default_reason = "method_not_allowed"


class Conflict(GatewayError):
    status = 409
    default_reason = "conflict"


class PayloadTooLarge(GatewayError):
    status = 413
    default_reason = "payload_too_large"


class UnsupportedMediaType(GatewayError):
    status = 415
    default_reason = "unsupported_media_type"


class Unprocessable(GatewayError):
    status = 422
    default_reason = "unprocessable"


class RateLimited(NothingSent, GatewayError):
    status = 429
    default_reason = "rate_limited"


class BrokerFailure(GatewayError):
    """The broker failed after the request may have reached it: an order's outcome is then unknown."""

    status = 502
    default_reason = "upstream_error"


class UpstreamError(BrokerFailure):
    status = 502
    default_reason = "upstream_error"


class Unavailable(NothingSent, GatewayError):
    status = 503
    default_reason = "unavailable"


class UpstreamTimeout(BrokerFailure):
    status = 504
    default_reason = "upstream_timeout"
