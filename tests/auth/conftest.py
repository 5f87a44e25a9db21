"""Caller fixtures: the gateway suite's sandbox, emulator project and installed gateway."""

from __future__ import annotations

from tests.gateway.conftest import function_env as function_env
from tests.gateway.conftest import make_gateway as make_gateway
from tests.gateway.conftest import market_open as market_open
from tests.gateway.conftest import sandbox_service as sandbox_service
