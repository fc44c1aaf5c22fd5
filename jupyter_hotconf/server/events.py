"""Every change on Jupyter's event bus (``jupyter_events``), never the config (docs/server.md).

``EventLogger.emit`` schedules its listeners with ``asyncio.create_task``, so it is called
from the broker, which runs on the server's loop thread — never from the watcher thread.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..core.store import Change

log = logging.getLogger(__name__)

SCHEMA_ID = "https://events.jupyter.org/jupyter_hotconf/config-changed/v1"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "config-changed" / "v1.yaml"


class ChangeEvents:
    """Broker listener that emits each change on ``event_logger``."""

    def __init__(self, event_logger: Any) -> None:
        self.event_logger = event_logger
        if SCHEMA_ID not in event_logger.schemas.schema_ids:
            event_logger.register_event_schema(SCHEMA_PATH)

    def __call__(self, change: Change) -> None:
        self.event_logger.emit(
            schema_id=SCHEMA_ID,
            data={
                "tenant_id": change.tenant_id,
                "change_type": change.change_type.value,
                "revision": change.revision,
            },
        )
