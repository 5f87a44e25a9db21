"""Sandbox broker: an offline, Alpaca-compatible Trading API v2 with a small market-data subset."""
