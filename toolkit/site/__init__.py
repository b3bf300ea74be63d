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
made, is replaced; anything else is refused (exit 2). After a change it is updated in place
instead, file by file (:mod:`toolkit.site.incremental`).
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from toolkit.config import Settings
from toolkit.errors import UsageError
from toolkit.publish import atomic
from toolkit.site import incremental as incremental_
from toolkit.site.answers import Answers
from toolkit.site.data import Release, read_release
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
    #: files written in this run (the rest were as they are)
    written: int = 0


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


def resolve_jobs(jobs: int | None) -> int:
    """``--jobs`` as the build resolves it (``toolkit.build.pool.resolve_jobs``): as given, or every core
    this process may run on. Not imported from there: ``toolkit.build`` loads rdflib and pyld, a second
    or two that a site after one change cannot spare (a test keeps the two the same)."""
    if jobs:
        return max(1, jobs)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@contextmanager
def settled_heap() -> Iterator[None]:
    """The cyclic collector off while the release and the state are read, their objects then frozen
    (:func:`gc.freeze`) for the rest of the run, and unfrozen at its end.

    Why: the indexed release and the state are millions of long-lived dicts, lists and terms with
    no cycles among them; every full collection walked them all again, half of a site run after
    one change (profiled at 100k: 24 s with the collector as it is, 13 s without). Frozen, they are
    not walked; the pages made later are collected as usual (and the forked workers, which inherit
    the frozen heap, do not touch its pages by walking it)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def check_release_apart(out: Path, release_dir: Path) -> None:
    """Refuse an output folder that is, or holds, the release folder."""
    if out.resolve() == release_dir.resolve() or release_dir.resolve().is_relative_to(out.resolve()):
        raise UsageError(f"--out {out} would replace the release folder {release_dir}", hint="choose another folder")


def check_out(out: Path, release_dir: Path) -> None:
    """Refuse an output folder the toolkit may not replace: the release itself, or anything not made by it."""
    check_release_apart(out, release_dir)
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
    check_kept: bool = False,
) -> SiteResult:
    """Build the site and write it into ``out``.

    The resource pages are made in ``jobs`` processes (default: all cores). With ``incremental``
    and the state of the last run into ``out`` (:mod:`toolkit.site.incremental`), only the pages
    whose inputs changed are made, and the folder is updated in place: changed files renamed over
    the old ones, files of pages that are gone deleted, the same bytes as a whole build. Else the
    site is made whole and replaces ``out`` atomically (see :func:`check_out`). One run at a time
    for a folder: a second waits for the lock.

    ``check_kept``: every file of the pages kept from the last run is checked (gone, or touched by
    hand since: made again). Without it (the default) they are trusted to be as that run wrote them, as
    a static site generator trusts its output: at 1M triples the check is 873k ``lstat`` calls (3 s of
    CPU, a sixth of a run after one change); a page edited by hand in the site is then made again when its
    inputs change, or by a run with the check."""
    target = (out or site_out(settings)).resolve()
    release = (release_dir or settings.release_dir).resolve()
    check_release_apart(target, release)
    jobs = resolve_jobs(jobs)
    try:
        return _write_site(settings, target, release, jobs, incremental, check_kept)
    finally:
        gc.unfreeze()  # what the run froze (:func:`settled_heap`) is an ordinary heap again


def _write_site(
    settings: Settings, target: Path, release: Path, jobs: int, incremental: bool, check_kept: bool
) -> SiteResult:
    # the saved queries, answered in a child meanwhile, the longest of the last run first
    answers = Answers(settings, release, jobs, incremental_.query_times(target))
    try:
        return _write_site_with(settings, target, release, jobs, incremental, answers, check_kept)
    finally:
        answers.close()


def _write_site_with(
    settings: Settings, target: Path, release: Path, jobs: int, incremental: bool, answers: Answers, check_kept: bool
) -> SiteResult:
    # the lock first: the release index beside the site is brought up to date by one run at a time
    with atomic.exclusive_lock(atomic.lock_path(target), "site"):
        incremental_.claim_beside(target)
        data = read_release(settings, release, incremental_.index_path(target))
        try:
            return _write_site_locked(settings, target, release, jobs, incremental, answers, data, check_kept)
        finally:
            data.index.close()


def _write_site_locked(
    settings: Settings,
    target: Path,
    release: Path,
    jobs: int,
    incremental: bool,
    answers: Answers,
    data: Release,
    check_kept: bool,
) -> SiteResult:
    builder = SiteBuilder(data, SiteMap(root_iri=site_root_iri(settings, data.base_iri), ontology_ns=data.ontology_ns))
    fp = incremental_.fingerprint(builder)
    with settled_heap():
        old = incremental_.load_state(target, fp) if incremental else None
    try:
        return _write_site_stated(settings, target, release, jobs, answers, data, builder, fp, old, check_kept)
    finally:
        if old is not None:
            old.close()


def _copy_release(
    builder: SiteBuilder, old_rest: dict[str, list], target: Path, staging: Path
) -> tuple[dict[str, list], list[str]]:
    """The release's files copied into ``staging`` (:attr:`SiteBuilder.copies`), those not as the last run
    copied them: their entries for the state (size, time, :func:`incremental_.stat_key`) and the copies
    written."""
    builder.release_copy()
    rest: dict[str, list] = {}
    written: list[str] = []
    for rel, src in sorted(builder.copies.items()):
        key = incremental_.stat_key(src)
        noted = old_rest.get(rel)
        if noted is not None and noted[2] == key and incremental_.unchanged(target / rel, noted[0], noted[1]):
            rest[rel] = noted  # the release's file is the one copied last time, and its copy is untouched
            continue
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, path)  # by the kernel (sendfile): not read into this process
        st = path.stat()
        rest[rel] = [st.st_size, st.st_mtime_ns, key]
        written.append(rel)
    return rest, written


def _write_site_stated(
    settings: Settings,
    target: Path,
    release: Path,
    jobs: int,
    answers: Answers,
    data: Release,
    builder: SiteBuilder,
    fp: str,
    old: incremental_.State | None,
    check_kept: bool,
) -> SiteResult:
    if old is not None and not incremental_.in_place_ok(target, old):
        old.close()
        old = None
    if old is None:
        with settled_heap():
            data.preload()  # every page is made: the release read in one scan, not subject by subject
    builder.pending = answers.take  # taken when an answer is first needed: the child works meanwhile
    if old is None:
        check_out(target, release)
    staging = atomic.new_staging(target)
    touched: incremental_.FilesCheck | None = None
    try:
        # every page's files checked (gone, or touched by hand) from the start, while the keys are hashed
        # and the pages made
        if old is not None and check_kept:
            touched = incremental_.FilesCheck(target, old.pages)
        lists = incremental_.list_changes(builder, old, target)
        # first what needs no saved query's answer, made while the child answers them: the keys, the
        # resource pages (no page reads a query's key) and the long lists but the queries' pages
        changed = incremental_.changed_keys(builder, old, queries=False)
        todo, keep = incremental_.plan(builder, old, changed)
        reuse = incremental_.reuser(old, changed, target)
        lists_jobs = builder.long_jobs(reuse, queries=False)
        made, long_made = incremental_.make_pages(builder, sorted(todo), staging, jobs, lists_jobs, answered=False)
        # still while the child answers: the kept pages' files counted, the release's files copied, the last
        # site's files listed (each a pass over 873k files at 1M: 2-3 s no longer after the answers)
        old_rest: dict[str, list] = old.rest if old is not None else {}
        sizes = {rel: st[0] for entry in keep.values() for rel, st in entry["files"].items()}
        copied, written = _copy_release(builder, old_rest, target, staging)
        known = set(incremental_.file_list(old)) if old is not None else set()
        # then the queries' parts: their keys (the reuser reads ``changed``, updated here) and pages
        changed.update(incremental_.changed_keys(builder, old, queries=True))
        long_made.update(incremental_.make_pages(builder, [], staging, jobs, builder.long_jobs(reuse, queries=True))[1])
        again = [iri for iri in touched.result() if iri in keep] if touched is not None else []
        if again:
            for iri in again:
                for rel in keep.pop(iri)["files"]:  # a file of it is gone or was touched: made again
                    del sizes[rel]
            made += incremental_.make_pages(builder, sorted(again), staging, jobs)[0]
        kept_files = list(sizes)
        for unit in made:
            builder.keep(unit.path, unit.doc)
            sizes.update({rel: st[0] for rel, st in unit.stats.items()})
        derived = incremental_.derived(old, target, keep, made, builder)
        jobs_done = builder.rest(more_files=sizes, reuse=reuse, made=long_made, derived=derived)
        rest: dict[str, list] = dict(copied)
        # a resource page at the path of an overview page (the ontology's own IRI at
        # ontology/): the overview page is the site's, as in a whole build, where it is
        # written last; the resource's entry does not claim the file
        taken = {rel for job in jobs_done.values() for rel in job.files} | set(builder.files) | set(builder.copies)
        for unit in made:
            unit.stats = {rel: st for rel, st in unit.stats.items() if rel not in taken}
        written += [rel for unit in made for rel in unit.stats]
        for job in jobs_done.values():
            for rel in job.files:
                if rel not in builder.files:  # kept from the last run
                    rest[rel] = old_rest[rel]
        for rel, data_ in sorted(builder.files.items()):
            digest = incremental_.content_hash(data_)
            noted = old_rest.get(rel)
            same = noted is not None and noted[2] == digest
            if same and incremental_.unchanged(target / rel, noted[0], noted[1]):
                rest[rel] = noted  # the same bytes, untouched: not written again
                continue
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data_)  # no fsync (a site is remade from the release at will)
            st = path.stat()
            rest[rel] = [st.st_size, st.st_mtime_ns, digest]
            written.append(rel)
        files = kept_files + [rel for unit in made for rel in unit.stats] + list(rest)
        if old is None:
            incremental_.invalidate_state(target, None)  # never a state that is not the site's
            atomic.swap_in(staging, target, durable=False, files=files)
        else:
            incremental_.update_in_place(target, staging, written, known, files, old)
        reused = reuse.reused if reuse is not None else set()
        incremental_.write_state(
            target, fp, old, builder, made, keep, changed, jobs_done, rest, reused, lists, answers.times
        )
        data.index.forget_until(data.index.generation()[1])
    finally:
        if touched is not None:
            touched.close()
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    sizes.update({rel: st[0] for rel, st in rest.items()})
    return SiteResult(
        out=target,
        files=len(sizes),
        pages=sum(1 for f in sizes if f.endswith(".html")),
        bytes=sum(sizes.values()),
        made=len(made),
        kept=len(keep),
        written=len(written),
    )


__all__ = [
    "DEFAULT_OUT",
    "SiteResult",
    "build_site_files",
    "check_out",
    "resolve_jobs",
    "site_out",
    "write_plain",
    "write_site",
]
