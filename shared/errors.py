"""The one error tree: every failure the gateway reports, each class with its HTTP status and reason."""

from __future__ import annotations

from typing import Any, ClassVar


class GatewayError(Exception):
    """Base of every error we answer with; `reason` is stable snake_case, `message` is for people."""

    status: ClassVar[int] = 500
    default_reason: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, reason: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.extra = extra

    @property
    def retry_after(self) -> float | None:
        value = self.extra.get("retry_after")
        return float(value) if value is not None else None

    def body(self) -> dict[str, Any]:
        return {"error": self.reason, "message": self.message, "code": self.status, **self.extra}


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


class RateLimited(GatewayError):
    status = 429
    default_reason = "rate_limited"


class UpstreamError(GatewayError):
    status = 502
    default_reason = "upstream_error"


class Unavailable(GatewayError):
    status = 503
    default_reason = "unavailable"


class UpstreamTimeout(GatewayError):
    status = 504
    default_reason = "upstream_timeout"
