"""The analytics suites share the order-story fixtures (a gateway on the sandbox's clock)."""

from tests.fills.conftest import clock as clock
from tests.fills.conftest import gateway as gateway
from tests.fills.conftest import order_settings as order_settings
from tests.fills.conftest import sandbox_service as sandbox_service
