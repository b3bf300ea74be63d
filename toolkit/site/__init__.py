"""The browsable bilingual site of a release: the last stage, after publish.

``policy-toolkit site`` reads a finished release folder (``policy.nq``, ``catalog.ttl``,
``manifest.json``), the archived texts in the sources folder and the schema files, and
writes a static site: a page per resource at its IRI's path in Chinese and English, each
statement with its verbatim quote highlighted in its paragraph of the archived text, source
pages with every quote linked to its fact, ontology pages with the SHACL constraints, a
timeline, the saved queries' results, the catalog, a SPARQL how-to, an offline search
index, schema.org ``Dataset`` markup and a sitemap. Nothing of the build is imported: the
site is made from the files as published, so a downloaded release gives the same site.

The output folder is replaced whole and atomically, with the release's own machinery
(:mod:`toolkit.publish.atomic`): only a missing or empty folder, or one this toolkit
made, is replaced; anything else is refused (exit 2).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from toolkit.config import Settings
from toolkit.errors import UsageError
from toolkit.publish import atomic
from toolkit.site.data import read_release
from toolkit.site.pages import build_files
from toolkit.site.paths import SiteMap, site_root_of

DEFAULT_OUT = "datasets/site"


@dataclass(frozen=True)
class SiteResult:
    out: Path
    files: int
    pages: int
    bytes: int


def site_out(settings: Settings) -> Path:
    """The site folder: ``[tool.policy-toolkit.site] out`` (default ``datasets/site``)."""
    return (settings.root / str(settings.site.get("out", DEFAULT_OUT))).resolve()


def site_root_iri(settings: Settings, base_iri: str) -> str:
    """The public root of the site: ``[tool.policy-toolkit.site] url``, else the base IRI's parent."""
    url = str(settings.site.get("url", "") or "")
    if url:
        return url if url.endswith("/") else url + "/"
    return site_root_of(base_iri)


def build_site_files(settings: Settings, release_dir: Path | None = None) -> dict[str, bytes]:
    """Every file of the site of the release in ``release_dir`` (default: the project's), in memory."""
    release = read_release(settings, release_dir)
    sitemap = SiteMap(root_iri=site_root_iri(settings, release.base_iri), ontology_ns=release.ontology_ns)
    return build_files(release, sitemap)


def write_plain(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a fresh folder of one's own (no swap, no marker): ``serve``'s temporary site."""
    for rel, data in sorted(files.items()):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def check_out(out: Path, release_dir: Path) -> None:
    """Refuse an output folder the toolkit may not replace: the release itself, or anything not made by it."""
    if out.resolve() == release_dir.resolve() or release_dir.resolve().is_relative_to(out.resolve()):
        raise UsageError(f"--out {out} would replace the release folder {release_dir}", hint="choose another folder")
    why = atomic.refusal(out)
    if why is None and out.is_dir() and any(out.iterdir()) and atomic.marked_files(out) is None:
        why = f"it is not empty and has no {atomic.MARKER} (it was not made by policy-toolkit site)"
    if why is not None:
        raise UsageError(
            f"refusing to replace {out}: {why}",
            hint="give --out an empty or new folder, or one that `policy-toolkit site` wrote",
        )


def write_site(settings: Settings, out: Path | None = None, release_dir: Path | None = None) -> SiteResult:
    """Build the site and write it into ``out`` (replaced whole, atomically; see :func:`check_out`)."""
    target = (out or site_out(settings)).resolve()
    release = (release_dir or settings.release_dir).resolve()
    check_out(target, release)
    files = build_site_files(settings, release)
    with atomic.exclusive_lock(atomic.lock_path(target), "site"):
        check_out(target, release)
        staging = atomic.new_staging(target)
        try:
            # no fsync per file (a site is remade from the release at will); the swap is atomic
            write_plain(staging, files)
            atomic.swap_in(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return SiteResult(
        out=target,
        files=len(files),
        pages=sum(1 for f in files if f.endswith(".html")),
        bytes=sum(len(b) for b in files.values()),
    )


__all__ = ["DEFAULT_OUT", "SiteResult", "build_site_files", "check_out", "site_out", "write_plain", "write_site"]
