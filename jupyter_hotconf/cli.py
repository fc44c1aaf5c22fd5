"""``jupyter-hotconf serve | watch | validate | history | diff | rollback | set`` — a thin
dispatcher.

Each subcommand lives beside the code it drives and is imported only when chosen, so
``validate`` never loads Tornado and ``watch`` never loads the server. A module serving
several subcommands names its functions ``add_<name>_arguments`` / ``run_<name>``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

# subcommand → module that defines ``add_arguments(parser)`` and ``run(args) -> int``
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("jupyter_hotconf.core.validate", "check every tenant file of a config dir"),
    "serve": ("jupyter_hotconf.server.standalone", "run the standalone server (port 7945)"),
    "watch": ("jupyter_hotconf.kernel.watch", "print a tenant's messages as JSON lines"),
    "history": ("jupyter_hotconf.cli_history", "list a tenant's revisions and audit entries"),
    "diff": ("jupyter_hotconf.cli_history", "show what changed between two revisions"),
    "rollback": ("jupyter_hotconf.cli_history", "roll a tenant back to a revision (server)"),
    "set": ("jupyter_hotconf.cli_set", "change values of a tenant's config (server or dir)"),
}


def _entry(module_name: str, command: str, kind: str) -> Any:
    """``add_arguments``/``run`` of a command's module (or its ``add_<command>_arguments`` /
    ``run_<command>`` when the module serves several)."""
    module = importlib.import_module(module_name)
    name = f"add_{command}_arguments" if kind == "add" else f"run_{command}"
    return getattr(module, name, None) or getattr(module, "add_arguments" if kind == "add"
                                                  else "run")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="jupyter-hotconf", description="Configuration hot-reload for Jupyter."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = argv[0] if argv and argv[0] in COMMANDS else None
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _entry(module, name, "add")(p)
    args = parser.parse_args(argv)
    return int(_entry(COMMANDS[args.command][0], args.command, "run")(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
