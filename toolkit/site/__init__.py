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

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from toolkit.config import Settings
from toolkit.errors import UsageError
from toolkit.publish import atomic
from toolkit.site import incremental as incremental_
from toolkit.site.data import read_release
from toolkit.site.pages import SiteBuilder, build_files
from toolkit.site.paths import SiteMap, site_root_of

DEFAULT_OUT = "datasets/site"


@dataclass(frozen=True)
class SiteResult:
    out: Path
    files: int
    pages: int
    bytes: int
    #: resource pages made in this run, and kept from the previous one (incremental)
    made: int = 0
    kept: int = 0


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


def write_site(
    settings: Settings,
    out: Path | None = None,
    release_dir: Path | None = None,
    *,
    jobs: int | None = None,
    incremental: bool = True,
) -> SiteResult:
    """Build the site and write it into ``out`` (replaced whole, atomically; see :func:`check_out`).

    The resource pages are made in ``jobs`` processes (default: all cores); with ``incremental``,
    only those whose inputs changed since the last run into ``out`` are made again
    (:mod:`toolkit.site.incremental`), the same bytes as a whole build."""
    target = (out or site_out(settings)).resolve()
    release = (release_dir or settings.release_dir).resolve()
    check_out(target, release)
    data = read_release(settings, release)
    builder = SiteBuilder(data, SiteMap(root_iri=site_root_iri(settings, data.base_iri), ontology_ns=data.ontology_ns))
    jobs = jobs or os.cpu_count() or 1
    with atomic.exclusive_lock(atomic.lock_path(target), "site"):
        check_out(target, release)
        fp = incremental_.fingerprint(builder)
        previous = target if incremental and target.is_dir() and atomic.marked_files(target) is not None else None
        old = incremental_.load_state(target, fp) if previous is not None else None
        todo, keep = incremental_.plan(builder, old)
        staging = atomic.new_staging(target)
        try:
            if previous is not None and keep:
                for iri in incremental_.link_kept(previous, staging, keep):
                    keep.pop(iri)
                    todo.append(iri)  # a file of it is gone: make it again
            made = incremental_.make_pages(builder, sorted(todo), staging, jobs)
            sizes: dict[str, int] = {}
            for entry in keep.values():
                builder.keep(entry["path"], tuple(entry["doc"]))  # type: ignore[arg-type]
                sizes.update({rel: st[0] for rel, st in entry["files"].items()})
            for unit in made:
                builder.keep(unit.path, unit.doc)
                sizes.update({rel: st[0] for rel, st in unit.stats.items()})
            builder.rest(more_files=sizes)
            # no fsync per file or folder (a site is remade from the release at will); the swap is atomic
            write_plain(staging, builder.files)
            state = incremental_.new_state(fp, made, keep, old)
            incremental_.state_path(target).unlink(missing_ok=True)  # never a state that is not the site's
            atomic.swap_in(staging, target, durable=False)
            incremental_.save_state(target, state)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    sizes.update({rel: len(b) for rel, b in builder.files.items()})
    return SiteResult(
        out=target,
        files=len(sizes),
        pages=sum(1 for f in sizes if f.endswith(".html")),
        bytes=sum(sizes.values()),
        made=len(made),
        kept=len(keep),
    )


__all__ = ["DEFAULT_OUT", "SiteResult", "build_site_files", "check_out", "site_out", "write_plain", "write_site"]
