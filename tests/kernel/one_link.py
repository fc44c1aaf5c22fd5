"""One provider per tenant per kernel, driven in a real kernel (local and server mode alike).

A live cell over two tenants records, each time it runs, the revision it was run for next
to what the OTHER handles of those tenants read at that moment. Before links were shared,
``ConfigProvider("acme")`` had its own socket/watcher and was behind in most re-runs.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from .kernels import Driver, comm_state

SETUP = """\
import threading
%load_ext jupyter_hotconf
from jupyter_hotconf import ConfigProvider
cfg = %hotconf acme --quiet
other = ConfigProvider("acme")
globex = ConfigProvider("globex")
seen = []
def feeds():
    return sum(t.name == "hotconf-watcher" or t.name.startswith("hotconf-socket-")
               for t in threading.enumerate())
"""

LIVE = """\
%%hotconf live acme globex
seen.append((cfg.revision, other.revision, cfg.get("pricing.discount"),
             other.get("pricing.discount"), globex.get("name")))
print("discount", cfg.get("pricing.discount"), "globex", globex.get("name"))
"""


def run_scenario(
    k: Driver, write_acme: Callable[[float], None], write_globex: Callable[[str], None],
    server_links: Callable[[], int] | None = None,
) -> None:
    """Every step asserts on the kernel's own feed threads (and the server's connection
    count when given)."""
    k.run(SETUP)
    assert feeds(k) == 2  # one per tenant, though acme has two handles (three soon)
    assert k.text("print(cfg.shared_link is other.shared_link)").strip() == "True"
    if server_links is not None:
        assert server_links() == 2
    live = k.run(LIVE)
    model = next(m for m in live if m["msg_type"] == "display_data")
    model_id = model["content"]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]

    def shows(text: str) -> Callable[[dict[str, Any]], bool]:
        def pred(msg: dict[str, Any]) -> bool:
            if msg["content"].get("comm_id") != model_id:
                return False
            return any(text in o.get("text", "") for o in comm_state(msg).get("outputs", []))
        return pred

    k.wait_msg(shows("discount 0.1 globex"), what="first live render")
    for discount in (0.2, 0.3, 0.4, 0.5, 0.6):
        write_acme(discount)
        k.wait_msg(shows(f"discount {discount} globex"), what=f"live render of {discount}")
    write_globex("Globex 2")
    k.wait_msg(shows("globex Globex 2"), what="a globex edit re-renders the cell too")
    seen = ast.literal_eval(k.text("print(seen)"))
    assert len(seen) >= 7, seen
    behind = [row for row in seen if row[0] != row[1] or row[2] != row[3]]
    assert not behind, f"the other handle read another revision in {behind} of {seen}"
    assert feeds(k) == 2
    # closing one handle keeps the others following; the last one closes the link
    k.run("other.close()")
    write_acme(0.7)
    k.wait_msg(shows("discount 0.7 globex"), what="live render after other.close()")
    assert feeds(k) == 2
    k.run("%hotconf acme --close")  # the magic's handle (cfg, and the live cell's acme)
    assert feeds(k) == 1
    alive = "globex.shared_link is not None and not globex.shared_link.closed"
    assert k.text(f"print({alive})").strip() == "True"
    if server_links is not None:
        _wait(server_links, 1)
    k.run("globex.close()")
    assert feeds(k) == 1  # the live cell's globex handle still holds the link
    k.run("%hotconf globex --close")
    assert feeds(k) == 0
    if server_links is not None:
        _wait(server_links, 0)


def feeds(k: Driver) -> int:
    """The kernel's feed threads: local watchers and sockets."""
    return int(k.text("print(feeds())"))


def _wait(count: Callable[[], int], expected: int) -> None:
    from jupyter_hotconf.pytest_plugin import wait_until

    wait_until(lambda: count() == expected, what=f"{expected} connections at the server")
