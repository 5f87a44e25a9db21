"""Where a notification may go: `https://` to a public address in the cloud; locally loopback too.

Checked when a target is saved and again before each delivery, since DNS answers can change. Shown
in responses as scheme and host only: a webhook's path is often its secret (Slack's and Discord's are).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from shared.errors import Unprocessable

Resolver = Callable[[str, int], list[str]]
MAX_URL = 2048
HIDDEN = "…"  # stands for a URL's path and query in responses


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (an address literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class UnsafeUrl(Unprocessable):
    default_reason = "unsafe_url"


def check_url(url: str, *, local: bool, resolver: Resolver = resolve) -> None:
    """Raise UnsafeUrl unless `url` may receive notifications (see the module docstring)."""
    if len(url) > MAX_URL:
        raise UnsafeUrl(f"url is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("url is not a valid URL") from None
    allowed = ("https", "http") if local else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeUrl("url must be https://" + (" (or http:// locally)" if local else ""))
    host = parts.hostname
    if not host or parts.username or parts.password:
        raise UnsafeUrl("url needs a host and must not carry credentials")
    try:
        addresses = resolver(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"url host {host} does not resolve", reason="unresolvable_url") from None
    if not addresses:
        raise UnsafeUrl(f"url host {host} does not resolve", reason="unresolvable_url")
    for raw in addresses:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback and local:
            continue
        if not address.is_global or address.is_multicast or address.is_reserved:
            raise UnsafeUrl(
                f"url host {host} resolves to a private, loopback, link-local or reserved address"
            )


def shown(url: str) -> str:
    """`url` as a response shows it: `scheme://host/…` when it has a path or query, else as it is."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return f"{origin}/{HIDDEN}" if url[len(origin) :].strip("/") else url
