"""The one error type the sandbox raises; routes turn it into an Alpaca-style JSON body."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An Alpaca error response: HTTP status, numeric code, message and optional extra fields."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


def invalid(message: str, **extra: Any) -> ApiError:
    """422 with the generic parameter code 40010001."""
    return ApiError(422, 40010001, message, **extra)


def unprocessable(message: str, **extra: Any) -> ApiError:
    """422 with the business-rule code 42210000."""
    return ApiError(422, 42210000, message, **extra)


def forbidden(message: str, **extra: Any) -> ApiError:
    return ApiError(403, 40310000, message, **extra)


def not_found(message: str) -> ApiError:
    return ApiError(404, 40410000, message)


def bad_request(message: str = "request body format is invalid") -> ApiError:
    return ApiError(400, 40010000, message)
