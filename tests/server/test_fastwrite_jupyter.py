"""Under a real Jupyter server (WebSocketMixin + JupyterHandler sockets) the hub's
broadcasts and heartbeats take the encode-once fast path too."""

from __future__ import annotations

from pathlib import Path

from jupyter_hotconf.pytest_plugin import write_json

from .clients import Client
from .test_jupyter import hotconf, jp_server_config  # noqa: F401 - the same server config

pytest_plugins = ["pytest_jupyter.jupyter_server"]


async def test_jupyter_sockets_take_the_fast_path(
    jp_serverapp, jp_ws_fetch, hotconf_dir: Path
) -> None:
    hub = hotconf(jp_serverapp).engine.hub  # type: ignore[attr-defined]
    ws = await jp_ws_fetch("hotconf", "ws", params={"tenant_id": "acme"})
    client = Client(ws)
    before = hub.writes.copy()
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A2"})
    assert "/name" in (await client.recv())["ConfigChanged"]["changed_paths"]
    hub.sweep()  # one heartbeat, now
    assert await client.recv(pings=True) == "Ping"
    assert hub.writes - before == {"fast": 2}
    ws.close()
