"""jupyter-hotconf: configuration hot-reload for Jupyter.

Entry points for Jupyter (server extension, labextension paths, IPython extension) are
defined here and import their implementations lazily, so importing the package is cheap.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__"]
