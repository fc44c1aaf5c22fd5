"""``cfg.link(path, widget)``: a widget's ``value`` and a config value, both ways
(``docs/kernel.md``, "Write-back").

- The widget moved (by the user): once it has been still for ``debounce_ms``, its value is
  written with ``cfg.set``. The quiet period is a timer on the kernel's main loop
  (``loop.call_later``), re-armed by every move, so a slider dragged through twenty values
  writes once and nothing ever sleeps.
- The config changed (a file edit, another writer): the widget moves to the new value,
  unless a write of the widget is pending (the user's newer choice wins, or is refused).
- A refused write (``ConfigConflict``, ``ConfigRejected``, ``ConfigReadOnly`` …) puts the
  widget back to the value in force and sets the provider's ``write_error``, which the
  ``ConfigUpdateIndicator`` shows; the next good write clears it.

Everything runs on the main thread: widget changes arrive there (comm messages), config
changes are dispatched there, and the timer is the main loop's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .dispatch import main_thread_loop
from .view import split_path
from .write_errors import ConfigWriteError

if TYPE_CHECKING:
    from .provider import ConfigProvider

log = logging.getLogger(__name__)


class WidgetBinding:
    """What ``cfg.link`` returns; ``.unlink()`` stops both directions."""

    def __init__(self, provider: ConfigProvider, path: str | Sequence[str | int], widget: Any,
                 *, debounce_ms: int = 300) -> None:
        if not split_path(path):
            raise ValueError("cfg.link needs the path of one value, e.g. 'pricing.discount'")
        self.provider = provider
        self.path = path
        self.widget = widget
        self.debounce_s = debounce_ms / 1000
        self.loop: asyncio.AbstractEventLoop | None = main_thread_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._pending = False
        self._moving = False  # this binding is setting widget.value
        self.linked = True
        self._show(provider.get(path))
        widget.observe(self._on_widget, "value")
        provider.observe(self._on_config, "config")

    def __repr__(self) -> str:
        state = "linked" if self.linked else "unlinked"
        return (f"<hotconf link {self.provider.tenant_id!r} {self.path!r} ⇄ "
                f"{type(self.widget).__name__} ({state})>")

    def unlink(self) -> None:
        if not self.linked:
            return
        self.linked = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.widget.unobserve(self._on_widget, "value")
        self.provider.unobserve(self._on_config, "config")

    # -- config → widget -------------------------------------------------------------------
    def _show(self, value: Any) -> None:
        if value is None or self.widget.value == value:
            return
        self._moving = True
        try:
            self.widget.value = value
        finally:
            self._moving = False

    def _on_config(self, _change: Any) -> None:
        if not self._pending:
            self._show(self.provider.get(self.path))

    # -- widget → config -------------------------------------------------------------------
    def _on_widget(self, _change: Any) -> None:
        if self._moving or not self.linked:
            return
        self._pending = True
        loop = self.loop
        if loop is None or loop.is_closed():  # no main loop (a script): write at once
            self._write()
            return
        loop.call_soon_threadsafe(self._arm)  # call_later belongs to the loop's own thread

    def _arm(self) -> None:
        assert self.loop is not None
        if self._timer is not None:
            self._timer.cancel()
        if self.linked:
            self._timer = self.loop.call_later(self.debounce_s, self._write)

    def _write(self) -> None:
        self._timer = None
        self._pending = False
        if not self.linked:
            return
        value = self.widget.value
        if self.provider.get(self.path) == value:
            return
        try:
            self.provider.set(self.path, value)
        except (ConfigWriteError, TypeError, ValueError) as e:
            reason = f"{self.path} = {value!r} not written: {e}"
            log.warning("hotconf %r: %s", self.provider.tenant_id, reason)
            self.provider.write_error = reason
            self._show(self.provider.get(self.path))  # back to the value in force
