"""Thin HTTP handlers, one module per resource: the only code that knows Flask."""
