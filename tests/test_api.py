"""The library API that ``toolkit/__init__.py`` promises, and the one error tree."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import toolkit
from toolkit import errors


@pytest.mark.parametrize("name", toolkit.__all__)
def test_every_name_in_all_resolves(name: str) -> None:
    value = getattr(toolkit, name)
    assert value is not None
    if name in toolkit._LAZY:  # the same object as in the module that defines it
        assert value is getattr(importlib.import_module(toolkit._LAZY[name]), name)


def test_all_lists_every_lazy_name_and_nothing_unknown() -> None:
    assert set(toolkit._LAZY) <= set(toolkit.__all__)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = toolkit.no_such_name  # type: ignore[attr-defined]


def test_importing_the_package_does_not_import_the_pipeline() -> None:
    """``import toolkit`` (which every ``toolkit.*`` import and the CLI do first) stays cheap."""
    heavy = "('rdflib', 'pyshacl', 'pyoxigraph', 'pandas')"
    code = f"import sys, toolkit; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_error_is_a_toolkit_error_with_an_exit_code() -> None:
    classes = [c for _n, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, Exception)]
    assert {"PublishError", "PortalError", "PortalUnavailable"} <= {c.__name__ for c in classes}
    for cls in classes:
        assert issubclass(cls, errors.ToolkitError), cls
        assert cls.exit_code in (errors.EXIT_INVALID, errors.EXIT_USAGE, errors.EXIT_INTERRUPTED), cls
    assert errors.PublishError.exit_code == errors.PortalError.exit_code == errors.EXIT_INVALID
