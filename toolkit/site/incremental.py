"""The site's resource pages made in worker processes, and again only where their inputs changed.

Why a pool: the resource pages are nearly all of the site (two HTML pages and three data files
per resource) and each is independent of the others, so they are made in ``jobs`` forked
processes that write their files straight into the staging folder (only the search entry and
the page's reads travel back). Why forked: the workers inherit the parsed release instead of
reading it again.

Why incremental, and why it is exact: a page is a pure function of what it reads from the
release, and every read goes through :class:`toolkit.site.pages.Tracked` or a noted helper
(``labels``, ``page_of``, ``types_of``, ``dates_of``), so each page knows its inputs as
``kind<TAB>key`` with a hash of their values. The state beside the site
(``.<site>.site-state``) keeps those hashes; the next run hashes the same keys in the new
release and makes again only the pages where one differs. The ontology pages, ``browse/``,
``timeline/`` and each saved query's page are noted the same way (a query's page also by its
file and answer); the home, catalog, SPARQL and search pages, the search index and the sitemap
are always made, and written only when their bytes changed. Anything else (the code, templates,
schema, prefixes, site root) is in one fingerprint: when it changes the site is made whole.

Why in place: after a change only the files that differ are written (each to the staging folder
first, then renamed over the old one) and the files of pages that are gone deleted, instead of
hard-linking tens of thousands of kept files into a new folder and deleting the old one. Only
files that the marker and the state name as the toolkit's are replaced or deleted. A test
compares the bytes with a whole build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import multiprocessing
import os
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from toolkit.errors import UsageError
from toolkit.publish import atomic
from toolkit.query.sitefiles import DATA_FILES
from toolkit.site.pages import Job, ResourceUnit, SiteBuilder

STATE_VERSION = 5
CHUNK = 64

#: the builder the forked workers inherit (set just before the pool starts)
_BUILDER: SiteBuilder | None = None
#: the staging folder the workers write into
_STAGING: Path | None = None


def state_path(target: Path) -> Path:
    """The incremental state of a site folder: beside it, ``.<name>.site-state``.

    Written with :mod:`marshal` (plain values only, nothing is run when it is read): tens of
    megabytes at 100k triples, which JSON takes seconds to write and read; a state of another
    Python is not read (and the site is made whole)."""
    return target.parent / f".{target.name}.site-state"


def _package_files() -> Iterator[tuple[str, bytes]]:
    stack = [resources.files("toolkit.site")]
    while stack:
        folder = stack.pop()
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.is_dir():
                if item.name != "__pycache__":
                    stack.append(item)
            elif item.is_file():
                yield str(item), item.read_bytes()


def fingerprint(builder: SiteBuilder) -> str:
    """What every page may read besides the release's data: code, templates, schema, prefixes, roots."""
    h = hashlib.sha256()
    for name, data in sorted(_package_files()):
        h.update(Path(name).name.encode() + b"\0" + hashlib.sha256(data).digest())
    schema = builder.release.settings.schema_dir
    for f in ("ontology.ttl", "shapes.ttl"):
        path = schema / f
        h.update(path.read_bytes() if path.is_file() else b"-")
    versions = {d: metadata.version(d) for d in ("jinja2", "pyoxigraph")}
    h.update(
        json.dumps(
            [
                sorted(builder.prefixes.items()),
                builder.sitemap.root_iri,
                builder.sitemap.ontology_ns,
                builder.release.base_iri,
                sorted(DATA_FILES.items()),
                versions,
                STATE_VERSION,
            ]
        ).encode()
    )
    return h.hexdigest()


def load_state(target: Path, fp: str) -> dict[str, Any] | None:
    """The previous run's state when it is for this code and schema (else None: make the site whole)."""
    try:
        state = marshal.loads(state_path(target).read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION or state.get("fingerprint") != fp:
        return None
    return state


#: kinds of key whose value is not a function of the release's quads alone: always hashed again
ALWAYS_CHECKED = frozenset({"text", "resources", "query"})


def index_path(target: Path) -> Path:
    """The release index of a site folder (:mod:`toolkit.site.releaseindex`): beside it, ``.<name>.site-index``."""
    return target.parent / f".{target.name}.site-index"


def affected_iris(builder: SiteBuilder, state: dict[str, Any]) -> set[str] | None:
    """The IRIs named by a block of ``policy.nq`` (a graph) or of the catalog (a subject's statement) that
    changed since the state was written, in its old or its new lines; None when that cannot be told
    (then every key is hashed again). Asked of the release index, which keeps them by generation:
    proportional to the change, not to the release.

    Why it is exact: a key's value (a subject's triples, its incoming links, label, types, dates,
    whether it has a page) is made only of the quads that name its IRI, and a block whose bytes
    did not change holds the same quads."""
    noted = state.get("index")
    if not isinstance(noted, list) or len(noted) != 2:
        return None
    return builder.release.index.changed_since(noted[0], noted[1])


def index_of(builder: SiteBuilder) -> list[Any]:
    """What the state keeps of the release index: its id and generation (see :func:`affected_iris`)."""
    return list(builder.release.index.generation())


def changed_keys(builder: SiteBuilder, state: dict[str, Any] | None) -> set[int]:
    """The indexes of the state's keys whose value in this release is not the one noted (only the keys
    of :func:`affected_iris` and of :data:`ALWAYS_CHECKED` kinds are hashed again)."""
    if state is None:
        return set()
    affected = affected_iris(builder, state)
    changed = set()
    for n, (key, old) in enumerate(zip(state["keys"], state["hashes"], strict=True)):
        kind, _, name = key.partition("\t")
        if affected is not None and kind not in ALWAYS_CHECKED and name not in affected:
            continue
        if builder.dep_value(kind, name) != old:
            changed.add(n)
    return changed


def plan(
    builder: SiteBuilder, state: dict[str, Any] | None, changed: set[int]
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """(resources to make, resource -> its previous entry to keep as it is)."""
    if state is None:
        return list(builder.resources), {}
    pages: dict[str, dict[str, Any]] = state["pages"]
    todo: list[str] = []
    keep: dict[str, dict[str, Any]] = {}
    for iri in builder.resources:
        entry = pages.get(iri)
        if entry is None or entry["path"] != builder.sitemap.page_dir(iri) or changed.intersection(entry["deps"]):
            todo.append(iri)
        else:
            keep[iri] = entry
    return todo, keep


def unchanged(path: Path | str, size: int, mtime: int) -> bool:
    """The file is as the state notes it (a plain file, same size and modification time): untouched."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == size and st.st_mtime_ns == mtime


def touched(target: Path, keep: dict[str, dict[str, Any]]) -> list[str]:
    """The kept resources whose files in the site are gone or were touched since (made again)."""
    root = str(target) + os.sep  # plain strings: pathlib's joins were most of this on 90k files
    return [
        iri
        for iri, entry in keep.items()
        if not all(unchanged(root + rel, size, mtime) for rel, (size, mtime) in entry["files"].items())
    ]


def reuser(state: dict[str, Any] | None, changed: set[int], target: Path) -> Callable[[str], Job | None] | None:
    """For :meth:`SiteBuilder.rest`: the last site's job of a name, when none of its reads changed and
    its files are as written (else None: it is made again)."""
    if state is None:
        return None
    jobs: dict[str, dict[str, Any]] = state["jobs"]
    rest: dict[str, list[Any]] = state["rest"]
    keys: list[str] = state["keys"]

    def reuse(name: str) -> Job | None:
        entry = jobs.get(name)
        if entry is None or changed.intersection(entry["deps"]):
            return None
        for rel in entry["files"]:
            noted = rest.get(rel)
            if noted is None or not unchanged(target / rel, noted[0], noted[1]):
                return None
        deps = {(k, key) for k, _, key in (keys[i].partition("\t") for i in entry["deps"])}
        docs = {path: (doc[0], doc[1], doc[2]) for path, doc in entry["docs"].items()}
        return Job(files=list(entry["files"]), docs=docs, deps=deps)

    return reuse


def _write_unit(unit: ResourceUnit, staging: Path) -> ResourceUnit:
    stats: dict[str, tuple[int, int]] = {}
    for rel, data in unit.files.items():
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        st = path.stat()
        stats[rel] = (st.st_size, st.st_mtime_ns)
    unit.files = {}
    unit.stats = stats  # sizes and times travel back, not the bytes
    return unit


def _render_chunk(iris: list[str]) -> list[ResourceUnit]:
    assert _BUILDER is not None and _STAGING is not None
    return [_write_unit(_BUILDER.resource_unit(iri), _STAGING) for iri in iris]


def _make_job(name: str) -> tuple[Job, dict[str, bytes]]:
    assert _BUILDER is not None
    return _BUILDER.make_job(name)


def make_pages(
    builder: SiteBuilder, todo: list[str], staging: Path, jobs: int, long_jobs: list[str] | None = None
) -> tuple[list[ResourceUnit], dict[str, tuple[Job, dict[str, bytes]]]]:
    """Make the resource pages of ``todo`` into ``staging``, in ``jobs`` forked processes (1: here),
    and with them the rest jobs named in ``long_jobs`` (:meth:`SiteBuilder.long_jobs`), whose
    records and files come back for :meth:`SiteBuilder.rest`. Why the long jobs here: after a label
    changed, ``browse/`` and a saved query's table are most of a run; in a worker they are made
    while the other worker makes the resource pages, instead of after them."""
    global _BUILDER, _STAGING
    # a few pages (after a change) are shared out among the workers too, not made in one chunk here
    size = max(1, min(CHUNK, -(-len(todo) // max(1, jobs))))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    names = list(long_jobs or ())
    # answered before the fork (by the child of toolkit.site.answers, else here), the workers
    # inherit the saved queries' serialised answers instead of running them again
    builder.answer_saved_queries()
    _BUILDER, _STAGING = builder, staging
    try:
        if jobs <= 1 or len(chunks) + len(names) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return [u for chunk in chunks for u in _render_chunk(chunk)], {}
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            made = {name: pool.submit(_make_job, name) for name in names}  # first: the longest
            units = [u for part in pool.map(_render_chunk, chunks) for u in part]
            return units, {name: future.result() for name, future in made.items()}
    finally:
        _BUILDER, _STAGING = None, None


def content_hash(data: bytes) -> str:
    """The hash a file outside the resource pages is noted by (written again only when it differs)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def new_state(
    fp: str,
    made: list[ResourceUnit],
    keep: dict[str, dict[str, Any]],
    old: dict[str, Any] | None,
    changed: set[int],
    builder: SiteBuilder,
    jobs: dict[str, Job],
    rest: dict[str, list[Any]],
) -> dict[str, Any]:
    """The state of the site just written: every resource page's files, search entry and inputs, every
    other file's size, time and hash (``rest``), the reads of the noted overview and ontology pages,
    and each graph's digest. The key table of the last state is kept as it is (its changed hashes
    updated, new keys added), so that the entries of kept pages are taken unchanged."""
    keys: list[str] = list(old["keys"]) if old is not None else []
    hashes: list[str] = list(old["hashes"]) if old is not None else []
    for n in changed:
        kind, _, name = keys[n].partition("\t")
        hashes[n] = builder.dep_value(kind, name)
    where = {k: n for n, k in enumerate(keys)}

    def index(key: str) -> int:
        n = where.get(key)
        if n is None:
            kind, _, name = key.partition("\t")
            n = where[key] = len(keys)
            keys.append(key)
            hashes.append(builder.dep_value(kind, name))
        return n

    pages: dict[str, dict[str, Any]] = dict(keep)
    for u in made:
        deps = [index(k) for k in u.deps]
        files = {rel: list(st) for rel, st in u.stats.items()}
        pages[u.iri] = {"path": u.path, "files": files, "doc": list(u.doc), "deps": deps}
    job_entries = {}
    for name, job in sorted(jobs.items()):
        if job.deps is not None:
            job_entries[name] = {
                "files": job.files,
                "docs": {p: list(d) for p, d in sorted(job.docs.items())},
                "deps": sorted(index(f"{k}\t{key}") for k, key in job.deps),
            }
    state = {
        "version": STATE_VERSION,
        "fingerprint": fp,
        "keys": keys,
        "hashes": hashes,
        "pages": dict(sorted(pages.items())),
        "jobs": job_entries,
        "rest": dict(sorted(rest.items())),
        "index": index_of(builder),
    }
    return compact(state)


def compact(state: dict[str, Any]) -> dict[str, Any]:
    """Drop the keys no page reads any more, once they are half the table (renumbering every entry)."""
    entries = [*state["pages"].values(), *state["jobs"].values()]
    used = sorted({n for e in entries for n in e["deps"]})
    if len(state["keys"]) <= 2 * len(used) + 1024:
        return state
    renumber = {old: new for new, old in enumerate(used)}
    state["keys"] = [state["keys"][n] for n in used]
    state["hashes"] = [state["hashes"][n] for n in used]
    for e in entries:
        e["deps"] = [renumber[n] for n in e["deps"]]
    return state


def file_list(state: dict[str, Any]) -> list[str]:
    """Every file of the site that a state describes."""
    files = [rel for entry in state["pages"].values() for rel in entry["files"]]
    return sorted([*files, *state["rest"]])


def in_place_ok(target: Path, state: dict[str, Any]) -> bool:
    """The site folder is the one the state describes (a real folder, its marker listing exactly the
    state's files): only then is it updated in place; anything else is made whole and swapped."""
    if target.is_symlink() or not target.is_dir():
        return False
    marked = atomic.marked_files(target)
    return marked is not None and marked - atomic.BOOKKEEPING == set(file_list(state))


def update_in_place(target: Path, staging: Path, written: list[str], old: list[str], new: list[str]) -> None:
    """Move the ``written`` files from ``staging`` into the site folder, each in one rename, and delete
    the files of ``old`` that are not in ``new``: only files the toolkit wrote are replaced or deleted.

    Why it is safe to stop at any point: the state is removed first and the marker lists the old and
    the new files until the end, so an interrupted update leaves a folder the next run recognises
    and makes whole. A path new to the site that is already there (not the toolkit's), or a folder on
    the way that is a link or a file, is refused (exit 2) before anything is changed."""
    known = set(old)
    for rel in written:
        parts = Path(rel).parts
        for n in range(1, len(parts)):
            folder = target.joinpath(*parts[:n])
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise UsageError(
                    f"refusing to write into {target}: {folder} is not a folder policy-toolkit site made",
                    hint="move it away, or give --out an empty or new folder",
                )
        if rel not in known and os.path.lexists(target / rel):
            raise UsageError(
                f"refusing to replace {target / rel}: policy-toolkit site did not write it",
                hint="move it away, or give --out an empty or new folder",
            )
    state_path(target).unlink(missing_ok=True)  # never a state that is not the site's
    listed = set(new)
    # the marker lists the old files already (in_place_ok): written only when the set of files changes
    # (a change of a label rewrites a hundred files of 90k; the marker's list is 4 MB at 100k)
    if not listed <= known:
        atomic.write_marker(target, sorted(known.union(new)))
    for rel in written:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, target / rel)
    gone = known.difference(new)
    for rel in sorted(gone):
        (target / rel).unlink(missing_ok=True)
    for folder in sorted({str(p) for rel in gone for p in Path(rel).parents if str(p) != "."}, reverse=True):
        with contextlib.suppress(OSError):  # it still holds files: kept
            (target / folder).rmdir()
    if listed != known:
        atomic.write_marker(target, new)


def save_state(target: Path, state: dict[str, Any]) -> None:
    path = state_path(target)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(marshal.dumps(state))
    os.replace(tmp, path)


__all__ = [
    "affected_iris",
    "changed_keys",
    "compact",
    "content_hash",
    "file_list",
    "fingerprint",
    "in_place_ok",
    "index_of",
    "index_path",
    "load_state",
    "make_pages",
    "new_state",
    "plan",
    "reuser",
    "save_state",
    "state_path",
    "touched",
    "unchanged",
    "update_in_place",
]
