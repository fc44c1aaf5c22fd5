"""Soak and reconnect-storm tests: a thousand clients on one real server (docs/benchmarks.md)."""
