"""``jupyter-hotconf serve | watch | validate`` — a thin dispatcher.

Each subcommand lives beside the code it drives and is imported only when chosen, so
``validate`` never loads Tornado and ``watch`` never loads the server.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand → module that defines ``add_arguments(parser)`` and ``run(args) -> int``
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("jupyter_hotconf.core.validate", "check every tenant file of a config dir"),
    "serve": ("jupyter_hotconf.server.standalone", "run the standalone server (port 7945)"),
    "watch": ("jupyter_hotconf.kernel.watch", "print a tenant's messages as JSON lines"),
}


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
            importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    return int(importlib.import_module(COMMANDS[args.command][0]).run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
