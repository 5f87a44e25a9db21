"""Send one signed request: `X-Signature: keyId=<caller>,t=<unix seconds>,v1=<hex>` where v1 is the
HMAC-SHA256, with the caller's signing secret, of "<t>.<METHOD>.<path>.<body>".

    GATEWAY_CALLER=bot GATEWAY_SIGNING_SECRET=... \\
        python examples/signed_request.py POST /api/alpaca/orders '{"symbol": "AAPL", ...}'

The path is the public one under /api/alpaca, with its query string if any. GATEWAY_URL defaults to
http://127.0.0.1:8001 (`make run`). Each signature is accepted once, within 300 s of its time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
import time

import httpx


def sign(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}.{method}.{path}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def send(base_url: str, caller: str, secret: str, method: str, path: str, body: str = "") -> httpx.Response:
    raw = body.encode()
    now = int(time.time())
    headers = {"X-Signature": f"keyId={caller},t={now},v1={sign(secret, now, method, path, raw)}"}
    if raw:
        headers["Content-Type"] = "application/json"
    # Send the bytes that were signed, exactly: re-encoding the JSON would change them.
    return httpx.request(method, base_url + path, content=raw, headers=headers, timeout=10.0)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    method, path, body = sys.argv[1].upper(), sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")
    base = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8001").rstrip("/")
    reply = send(base, os.environ["GATEWAY_CALLER"], os.environ["GATEWAY_SIGNING_SECRET"], method, path, body)
    print(reply.status_code, reply.text)
    sys.exit(0 if reply.is_success else 1)
