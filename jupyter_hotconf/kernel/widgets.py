"""ConfigUpdateIndicator and how a provider displays itself (``docs/kernel.md``).

Widgets change only through traits: they observe the provider's traits, which the provider
sets on the kernel's main thread, so widget messages never come from another thread. They
take any object with a provider's traits (``ProviderLike``), so this module never imports
``provider.py`` (which imports this one lazily to display itself).
"""

from __future__ import annotations

import contextlib
import html
import json
import sys
from collections.abc import Callable
from typing import Any, Protocol

import ipywidgets as widgets
from traitlets import Bool

from .client import LinkStatus
from .view import ConfigView


class ProviderLike(Protocol):
    """What the widgets read of a provider: its traits and ``observe``/``unobserve``."""

    tenant_id: str
    config: ConfigView
    revision: int
    valid: bool
    error: str | None
    reconnect_attempts: int
    mode: str
    source: Any

    @property
    def status(self) -> str: ...

    @property
    def config_error(self) -> dict[str, Any] | None: ...

    @property
    def is_reconnecting(self) -> bool: ...

    def observe(self, handler: Callable[..., Any], names: Any = ..., type: str = ...) -> None: ...

    def unobserve(self, handler: Callable[..., Any], names: Any = ..., type: str = ...) -> None:
        ...


#: status → (icon, colour, label); colours readable on light and dark backgrounds
STYLES: dict[str, tuple[str, str, str]] = {
    LinkStatus.CONNECTED: ("●", "#2e7d32", "Live"),
    LinkStatus.LOCAL: ("●", "#1565c0", "Local"),
    LinkStatus.CONNECTING: ("◌", "#ef6c00", "Connecting…"),
    LinkStatus.DISCONNECTED: ("○", "#ef6c00", "Disconnected"),
    LinkStatus.ERROR: ("✖", "#c62828", "Error"),
    LinkStatus.DISABLED: ("\u25cb", "#757575", "Static"),
}
INVALID = ("⚠", "#c62828", "Invalid config")
REFUSED = ("⚠", "#ef6c00", "Write refused")
#: provider traits the indicator redraws on
WATCHED = ["status", "revision", "valid", "config_error", "error", "reconnect_attempts", "mode",
           "write_error"]


def status_parts(p: ProviderLike) -> tuple[str, str, str, str]:
    """(icon, colour, label, detail) for a provider's current state."""
    icon, colour, label = STYLES.get(p.status, STYLES[LinkStatus.ERROR])
    detail = f"{p.tenant_id} · rev {p.revision}"
    if p.is_reconnecting:
        label += f" (attempt {p.reconnect_attempts})"
    if not p.valid:
        icon, colour, label = INVALID
        err = p.config_error or {}
        where = ":".join(str(err[k]) for k in ("file", "line") if err.get(k) is not None)
        detail += f" · {where}: {err.get('message', '')}"
    elif getattr(p, "write_error", None):  # a cfg.link-ed widget's write (binding.py)
        icon, colour, label = REFUSED
        detail += f" · {getattr(p, 'write_error', '')}"
    elif p.error:
        detail += f" · {p.error}"
    return icon, colour, label, detail


def status_html(p: ProviderLike, compact: bool = False) -> str:
    icon, colour, label, detail = status_parts(p)
    text = "" if compact else f" {html.escape(label)} <small>{html.escape(detail)}</small>"
    return (
        f'<span class="hotconf-indicator" title="hotconf: {html.escape(label)} · '
        f'{html.escape(detail)}" style="color:{colour}">{icon}{text}</span>'
    )


def status_text(p: ProviderLike) -> str:
    icon, _colour, label, detail = status_parts(p)
    return f"{icon} {label} — {detail}"


def in_error(p: ProviderLike) -> bool:
    return p.status == LinkStatus.ERROR or not p.valid or bool(getattr(p, "write_error", None))


class ConfigUpdateIndicator(widgets.HTML):  # type: ignore[misc]
    """Icon + label coloured by the provider's status; hidden in ``prod`` mode.

    ``compact`` shows the icon only (the label goes to the tooltip); ``show_only_on_error``
    keeps it hidden until the link fails or the config is invalid.
    """

    compact = Bool(False).tag(sync=False)
    show_only_on_error = Bool(False).tag(sync=False)

    def __init__(
        self, provider: ProviderLike, compact: bool = False, show_only_on_error: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.provider = provider
        self.compact = compact
        self.show_only_on_error = show_only_on_error
        provider.observe(self._refresh, WATCHED)
        self.observe(self._refresh, ["compact", "show_only_on_error"])
        self._refresh()

    def _refresh(self, _change: Any = None) -> None:
        p = self.provider
        self.value = status_html(p, self.compact)
        hidden = p.mode == "prod" or (self.show_only_on_error and not in_error(p))
        self.layout.display = "none" if hidden else None

    def close(self) -> None:
        with contextlib.suppress(ValueError):  # closed already (``close()``, then ``__del__``)
            self.provider.unobserve(self._refresh, WATCHED)
        super().close()


def tree_text(p: ProviderLike) -> str:
    return json.dumps(p.config.to_dict(), indent=2, sort_keys=True, default=str)


def tree_html(p: ProviderLike) -> str:
    return (
        '<details open><summary>config</summary><pre class="hotconf-tree">'
        f"{html.escape(tree_text(p))}</pre></details>"
    )


class ConfigTree(widgets.HTML):  # type: ignore[misc]
    """The provider's config as an indented tree, redrawn on every change."""

    def __init__(self, provider: ProviderLike, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.provider = provider
        provider.observe(self._refresh, "config")
        self._refresh()

    def _refresh(self, _change: Any = None) -> None:
        self.value = tree_html(self.provider)


def _in_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    return ipython is not None and getattr(ipython.get_ipython(), "kernel", None) is not None


def provider_mimebundle(p: ProviderLike) -> dict[str, Any]:
    """Widget view when a kernel can drive one, plus text/plain and text/html for frontends
    without widgets (nbconvert, a terminal, GitHub's renderer)."""
    source = p.source.describe() if p.source is not None else "fixed config"
    text = f"{status_text(p)}\nsource: {source}\n{tree_text(p)}"
    page = f"<div>{status_html(p)}<br><small>{html.escape(source)}</small>{tree_html(p)}</div>"
    bundle: dict[str, Any] = {}
    if _in_kernel():
        box = widgets.VBox([ConfigUpdateIndicator(p), ConfigTree(p)])
        bundle.update(box._repr_mimebundle_() or {})
    bundle["text/plain"] = text
    bundle["text/html"] = page
    return bundle
