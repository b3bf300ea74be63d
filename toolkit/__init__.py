"""policy-toolkit: publish the facts of policy news as validated linked open data.

The pipeline runs sources -> graph -> validate -> export -> publish; each stage is a
subpackage and never imports a later one. Python users call the functions re-exported
here; the Typer CLI in :mod:`toolkit.cli` is a thin layer over them.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
