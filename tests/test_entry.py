"""The console script's guard: a Ctrl-C before the CLI is imported is one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_ctrl_c_while_the_cli_is_imported_is_one_line_and_exit_130() -> None:
    """The interrupt is raised by an import hook when ``toolkit.cli`` is imported: the moment a
    Ctrl-C in the first two seconds of a run lands in (a signal's timing cannot be pinned)."""
    child = textwrap.dedent(
        """
        import sys
        from importlib.abc import MetaPathFinder

        class CtrlC(MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "toolkit.cli":
                    raise KeyboardInterrupt
                return None

        sys.meta_path.insert(0, CtrlC())
        from toolkit.entry import main
        main()
        """
    )
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 130, proc
    assert proc.stderr == "interrupted: nothing was done\n" and proc.stdout == ""
