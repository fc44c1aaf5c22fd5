"""jupyter-hotconf: configuration hot-reload for Jupyter.

Entry points for Jupyter (server extension, labextension paths, IPython extension) are
defined here and import their implementations lazily, so importing the package is cheap
and never drags Tornado into a kernel or IPython into a server.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["ConfigConflict", "ConfigProvider", "ConfigReadOnly", "ConfigRejected",
           "ConfigWriteError", "__version__"]
#: the write-back errors (``cfg.set`` & co.), importable without importing the kernel side
_WRITE_ERRORS = ("ConfigConflict", "ConfigReadOnly", "ConfigRejected", "ConfigWriteError")


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.extension import HotConf

    return [{"module": "jupyter_hotconf", "app": HotConf}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-hotconf"}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_hotconf``: registers ``%hotconf`` and ``%%hotconf``."""
    from .kernel.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext jupyter_hotconf``: closes every provider and leaves no thread behind."""
    from .kernel.magics import unload_ipython_extension as unload

    unload(ipython)


def __getattr__(name: str) -> Any:
    if name == "ConfigProvider":
        from .kernel.provider import ConfigProvider

        return ConfigProvider
    if name in _WRITE_ERRORS:
        from .kernel import write_errors

        return getattr(write_errors, name)
    raise AttributeError(name)
