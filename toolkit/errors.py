"""One small error hierarchy, so the CLI maps every domain failure to an exit code in one place.

Load errors (the input cannot be read at all) are kept apart from data errors (the input
was read and is wrong), as pySHACL does: exit 2 versus exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from toolkit.report import ValidationReport

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


class ToolkitError(Exception):
    """Base of every error the toolkit raises on purpose."""

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        text = where + self.message
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class UsageError(ToolkitError):
    """The command was called wrongly (unknown option value, missing file...)."""


class LoadError(ToolkitError):
    """An input could not be read or parsed at all (not UTF-8, broken YAML, bad RDF syntax)."""


class DataError(ToolkitError):
    """The input was read but is invalid; carries the full validation report."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, report: ValidationReport | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.report = report


class ReleaseMismatch(ToolkitError):
    """`build --check`: the committed release differs from what the sources produce."""

    exit_code = EXIT_INVALID


class ReleaseRefused(UsageError):
    """`build --release DIR`: DIR exists and is not a folder the toolkit may replace whole."""


class NoSpace(ToolkitError):
    """The disk filled up while the build wrote (ENOSPC); the previous release is intact."""


class Interrupted(ToolkitError):
    """Ctrl-C (SIGINT) during a command; the message says what was left on disk."""

    exit_code = EXIT_INTERRUPTED


class PublishError(ToolkitError):
    """`publish sparql`: the upload failed or the store does not hold what was sent (exit 1).

    ``attempts`` is how many times the request was tried (the retry policy's count).
    """

    exit_code = EXIT_INVALID

    def __init__(self, message: str, *, attempts: int = 0, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.attempts = attempts


class PortalError(ToolkitError):
    """`publish ckan`: the portal refused or failed the upload (exit 1); the message says what to do."""

    exit_code = EXIT_INVALID


class PortalUnavailable(PortalError):
    """The portal could not be reached, or answered 5xx, on every attempt (exit 1)."""
