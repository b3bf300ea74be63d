"""The ``policy-toolkit`` console script: the CLI imported under a Ctrl-C guard.

Why a module of its own: importing :mod:`toolkit.cli` takes about 2 s (typer, rich and the
command modules), and a Ctrl-C in that time used to end in a Python traceback, before the
CLI's own guard existed. This module imports nothing heavy (``toolkit`` itself loads lazily),
so the guard is in place from the first moment the toolkit's code runs.
"""

from __future__ import annotations

import sys

#: the exit code of a command stopped by Ctrl-C (128 + SIGINT, as the shell reports it)
EXIT_INTERRUPTED = 130


def main() -> None:
    """Run the CLI; a Ctrl-C while it is still being imported is one line and exit 130."""
    try:
        from toolkit.cli import main as cli_main  # the 2 s import this module exists to guard
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: nothing was done\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
    cli_main()
