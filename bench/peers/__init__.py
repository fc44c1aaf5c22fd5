"""The alternatives jupyter-hotconf is measured against.

- ``watchdog_floor``: a raw watchdog callback in the benchmark's own process — the floor.
- ``ws_broadcast``: a minimal ``websockets`` server fed by watchdog, as a user would write it.
- ``naive_poll``: re-read the file once a second.
"""
