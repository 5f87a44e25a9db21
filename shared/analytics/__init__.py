"""Execution analytics from the order records and fills in Firestore: slippage and latency."""
