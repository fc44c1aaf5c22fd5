"""Shared test material for the server tests: tenant files whose comments and layout must
survive a write, and a Jupyter setup whose authorizer a test can narrow."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from jupyter_server.auth.authorizer import AllowAllAuthorizer
from traitlets.config import Config

#: Initech as YAML and as TOML, commented: a write must leave untouched lines byte for byte.
COMMENTED_YAML = """\
# Initech's settings: keep the comments
name: Initech   # the display name
pricing:
  discount: 0.1  # agreed in Q3
  tiers: [1, 2, 3]
"""
COMMENTED_TOML = """\
# Initech's settings: keep the comments
name = "Initech" # the display name

[pricing]
discount = 0.1 # agreed in Q3
tiers = [1, 2, 3]
"""


class SwitchableAuthorizer(AllowAllAuthorizer):
    """Jupyter's allow-all authorizer, except the actions a test switches off
    (``monkeypatch.setattr(SwitchableAuthorizer, "refused", {"write"})``)."""

    refused: ClassVar[set[str]] = set()

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return action not in self.refused


def jupyter_config(hotconf_dir: Path, history: Path, **hotconf: Any) -> Config:
    """A pytest-jupyter ``jp_server_config`` with hotconf on ``hotconf_dir``, its history in
    ``history`` and the switchable authorizer."""
    return Config({
        "ServerApp": {"jpserver_extensions": {"jupyter_hotconf": True},
                      "authorizer_class": SwitchableAuthorizer},
        "HotConf": {"config_dir": str(hotconf_dir), "debounce_ms": 20,
                    "history": str(history), **hotconf},
    })
