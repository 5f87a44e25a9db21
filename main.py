"""Deploy index: every Cloud Function entry point, re-exported for `--entry-point`; nothing else."""

from functions.account import get_account, get_clock, get_config
from functions.orders import cancel_order, list_orders, list_trades, place_order
from functions.positions import close_position, list_positions

__all__ = [
    "cancel_order",
    "close_position",
    "get_account",
    "get_clock",
    "get_config",
    "list_orders",
    "list_positions",
    "list_trades",
    "place_order",
]
