"""Benchmarks for jupyter-hotconf, measured side by side with the peers a user would pick.

Run ``.venv/bin/python -m bench run --quick`` (a few minutes) or ``--full``; see
``docs/benchmarks.md``.
"""
