"""What a release is, for every path that writes one: its files, manifest and media types,
and the error `build --check` raises when the release on disk differs.

Its own module, below :mod:`toolkit.publish.assemble` and :mod:`toolkit.publish.release`,
so that both, and the build in :mod:`toolkit.build`, share one definition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from rdflib import Graph

from toolkit.config import Settings, where
from toolkit.errors import ReleaseMismatch
from toolkit.export.formats import BY_SUFFIX
from toolkit.publish import atomic
from toolkit.report import ValidationReport

MANIFEST = atomic.MANIFEST

__all__ = ["MANIFEST", "MEDIA_TYPES", "Release", "mismatch", "sha256", "where"]
#: file suffix -> media type: the formats' own (:data:`~toolkit.export.formats.FORMATS`), the
#: CSV tables and the JSON metadata files
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    **{"." + suffix: fmt.media_type for suffix, fmt in BY_SUFFIX.items()},
}


class Release:
    """A release: its files (path -> bytes), manifest, validation report and graph.

    The fast build keeps the files on disk (``files`` reads them on access) and makes the rdflib
    graph only when someone asks for it (``graph_loader``); the tests' oracle holds both in memory.
    """

    def __init__(
        self,
        files: Mapping[str, bytes],
        manifest: dict[str, Any],
        report: ValidationReport,
        graph: Graph | None = None,
        changed: list[str] | None = None,
        *,
        graph_loader: Callable[[], Graph] | None = None,
    ) -> None:
        self.files = files
        self.manifest = manifest
        self.report = report
        self.changed = changed if changed is not None else []
        self._graph = graph
        self._graph_loader = graph_loader

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            self._graph = self._graph_loader() if self._graph_loader is not None else Graph()
        return self._graph


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mismatch(settings: Settings, changed: list[str]) -> ReleaseMismatch:
    """`build --check`'s error: the release on disk differs from what the sources give."""
    return ReleaseMismatch(
        f"the release in {where(settings.release_dir, settings)} is not what the sources produce:\n  "
        + "\n  ".join(changed),
        hint="run `policy-toolkit build` and commit the result",
    )
