"""The benchmarks' floors, behind the same functions-framework server and importing the libraries every
entry point imports: `floor`, a trivial function, so what is left over is the engine's own cost; and
`relay`, which makes the one upstream call the entry point makes and nothing else (GET /v2/account, or
POST /v2/orders with the request's body, through one keep-alive httpx client), so what is left over it
is the engine's cost beyond the call itself."""

# ruff: noqa: F401
import os

import functions_framework
import google.cloud.firestore
import google.cloud.secretmanager
import httpx
import pydantic

_clients: list[httpx.Client] = []  # the relay's client, built on its first call: `floor`'s cold start is
# measured on this module and must not pay for it


def _upstream() -> httpx.Client:
    if not _clients:
        _clients.append(
            httpx.Client(
                base_url=os.environ["ALPACA_BASE_URL"],
                headers={
                    "APCA-API-KEY-ID": os.environ["ALPACA_API_KEY"],
                    "APCA-API-SECRET-KEY": os.environ["ALPACA_SECRET_KEY"],
                },
                timeout=10.0,
            )
        )
    return _clients[0]


def floor(request: object) -> str:
    return "ok"


def relay(request: object) -> tuple[bytes, int, dict[str, str]]:
    if getattr(request, "method", "GET") == "POST":
        body = request.get_data()  # type: ignore[attr-defined]
        answer = _upstream().post("/v2/orders", content=body, headers={"Content-Type": "application/json"})
    else:
        answer = _upstream().get("/v2/account")
    return answer.content, answer.status_code, {"Content-Type": "application/json"}
