"""What a post-exporter receives: the settings, the validated outcome and the files so far.

Its own module so that the post-exporters (:mod:`toolkit.publish.catalog`,
:mod:`toolkit.publish.datapackage`, :func:`toolkit.export.nquads.release_files`) and their
registry (:mod:`toolkit.publish.extras`) can all import it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from toolkit.config import Settings
from toolkit.validate import Outcome


@dataclass(frozen=True)
class ReleaseInputs:
    """The inputs of one post-exporter run: ``files`` are the release files made before it."""

    settings: Settings
    outcome: Outcome
    files: dict[str, bytes]


PostExporter = Callable[[ReleaseInputs], dict[str, bytes]]
