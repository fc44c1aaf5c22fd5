#!/usr/bin/env python
"""Fail when a hotconf handler method lacks an authentication decorator.

Like the JupyterLab extension template's check: every HTTP verb a ``RequestHandler``
subclass defines in the given modules must be wrapped by ``tornado.web.authenticated``
(with ``jupyter_server``'s ``authorized``), ``jupyter_server``'s ``ws_authenticated``, or
this project's ``token_authenticated`` (standalone). Usage:

    python scripts/check_auth.py [module ...]   # default: the hotconf handler modules
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterable

from tornado.web import RequestHandler

DEFAULT_MODULES = (
    "jupyter_hotconf.server.jupyter_handlers",
    "jupyter_hotconf.server.standalone_handlers",
)
VERBS = ("get", "head", "post", "put", "patch", "delete", "options")


def _known_wrappers() -> dict[object, str]:
    """Code object of each auth decorator's wrapper → its name. ``functools.wraps`` copies
    the name and qualname of the wrapped method, but not the wrapper's code object."""
    from jupyter_server.auth.decorator import authorized, ws_authenticated
    from tornado.web import authenticated

    from jupyter_hotconf.server.standalone_handlers import token_authenticated

    def sample(self: object) -> None: ...

    return {
        authenticated(sample).__code__: "authenticated",
        authorized(sample).__code__: "authorized",
        ws_authenticated(sample).__code__: "ws_authenticated",
        token_authenticated(sample).__code__: "token_authenticated",
    }


def decorators(func: object, known: dict[object, str]) -> set[str]:
    """Names of the auth decorators wrapped around ``func`` (following ``__wrapped__``)."""
    found: set[str] = set()
    while func is not None:
        name = known.get(getattr(func, "__code__", None))
        if name:
            found.add(name)
        func = getattr(func, "__wrapped__", None)
    return found


def problems(module_names: Iterable[str]) -> list[str]:
    out: list[str] = []
    known = _known_wrappers()
    for module_name in module_names:
        module = importlib.import_module(module_name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, RequestHandler) or cls.__module__ != module_name:
                continue
            for verb in VERBS:
                method = cls.__dict__.get(verb)
                if method is None:
                    continue
                found = decorators(method, known)
                ok = (
                    "ws_authenticated" in found
                    or "token_authenticated" in found
                    or {"authenticated", "authorized"} <= found
                )
                if not ok:
                    have = ", ".join(sorted(found)) or "none"
                    out.append(f"{module_name}.{cls_name}.{verb}: no authentication "
                               f"decorator (found: {have})")
    return out


def main(argv: list[str]) -> int:
    found = problems(argv or DEFAULT_MODULES)
    for line in found:
        print(f"check_auth: {line}", file=sys.stderr)
    if not found:
        print("check_auth: every handler method is authenticated")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
