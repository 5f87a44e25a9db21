"""The engine behind every Cloud Function: no Flask here, and no environment outside config.py."""
