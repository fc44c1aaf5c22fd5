"""Reading the credential a request presents, for both handler bases.

The standalone base checks it against ``--token``; the Jupyter base against the per-server
``JUPYTER_HOTCONF_TOKEN`` secret. It lives apart from both so that the standalone server
never imports ``jupyter_server`` (``jupyter-hotconf serve`` runs without it installed).
"""

from __future__ import annotations

from tornado import web


def presented_token(handler: web.RequestHandler) -> str:
    """The credential of a request: ``Authorization: token|Bearer <t>`` or ``?token=<t>``."""
    header = handler.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    raw = handler.request.query_arguments.get("token", [b""])[0]
    return raw.decode("utf-8", "replace")
