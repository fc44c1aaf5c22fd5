"""Tornado transport: the WebSocket hub, REST, the Jupyter extension and the standalone app."""
