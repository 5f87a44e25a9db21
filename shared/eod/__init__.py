"""End-of-day jobs: the session decision, the run lock, position snapshots and the flatten."""
