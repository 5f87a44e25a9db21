"""Pre-trade risk: the live settings, their store, and the checks of one order against them."""
