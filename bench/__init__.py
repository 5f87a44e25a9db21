"""Benchmarks: each measures side by side in one run and writes JSON under bench/results/."""
