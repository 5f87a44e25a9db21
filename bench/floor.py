"""The benchmarks' floor: a trivial function behind the same functions-framework server, importing the
libraries every entry point imports, so what is left over is the engine's own cost."""

# ruff: noqa: F401
import functions_framework
import google.cloud.firestore
import google.cloud.secretmanager
import httpx
import pydantic


def floor(request: object) -> str:
    return "ok"
