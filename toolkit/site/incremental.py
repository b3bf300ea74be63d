"""The site's resource pages made in worker processes, and again only where their inputs changed.

Why a pool: the resource pages are nearly all of the site (two HTML pages and three data files
per resource) and each is independent of the others, so they are made in ``jobs`` forked
processes that write their files straight into the staging folder (only the search entry and
the page's reads travel back). Why forked: the workers inherit the parsed release instead of
reading it again.

Why incremental, and why it is exact: a page is a pure function of what it reads from the
release, and every read goes through :class:`toolkit.site.pages.Tracked` or a noted helper
(``labels``, ``page_of``), so each page knows its inputs as ``kind<TAB>key`` with a hash of
their values. The state beside the site (``.<site>.site-state.json``) keeps those hashes; the
next run hashes the same keys in the new release and makes again only the pages where one
differs (the rest are hard-linked from the previous site, copied where links fail). Anything
else (the code, templates, schema, prefixes, site root) is in one fingerprint: when it changes
the site is made whole. The overview and ontology pages, the search index and the sitemap are
always made (they read everything). A test compares the bytes with a whole build.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from toolkit.query.sitefiles import DATA_FILES
from toolkit.site.pages import ResourceUnit, SiteBuilder

STATE_VERSION = 1
CHUNK = 64

#: the builder the forked workers inherit (set just before the pool starts)
_BUILDER: SiteBuilder | None = None
#: the staging folder the workers write into
_STAGING: Path | None = None


def state_path(target: Path) -> Path:
    """The incremental state of a site folder: beside it, ``.<name>.site-state.json``."""
    return target.parent / f".{target.name}.site-state.json"


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
        state = json.loads(state_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION or state.get("fingerprint") != fp:
        return None
    return state


def plan(builder: SiteBuilder, state: dict[str, Any] | None) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """(resources to make, resource -> its previous entry to keep as it is)."""
    if state is None:
        return list(builder.resources), {}
    keys: list[str] = state["keys"]
    hashes: list[str] = state["hashes"]
    changed = set()
    for n, (key, old) in enumerate(zip(keys, hashes, strict=True)):
        kind, _, name = key.partition("\t")
        if builder.dep_value(kind, name) != old:
            changed.add(n)
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


def _unchanged(path: Path, size: int, mtime: int) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == size and st.st_mtime_ns == mtime


def link_kept(previous: Path, staging: Path, keep: dict[str, dict[str, Any]]) -> list[str]:
    """Hard-link (or copy) the kept pages' files from the previous site; the resources whose files are
    gone or were touched since (size or modification time not the state's: made again, as ``make`` would)."""
    missing = []
    for iri, entry in keep.items():
        if not all(_unchanged(previous / rel, size, mtime) for rel, (size, mtime) in entry["files"].items()):
            missing.append(iri)
            continue
        for rel in entry["files"]:
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(previous / rel, dest)
            except OSError:
                shutil.copy2(previous / rel, dest)  # keeps the modification time the state holds
    return missing


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


def make_pages(builder: SiteBuilder, todo: list[str], staging: Path, jobs: int) -> list[ResourceUnit]:
    """Make the resource pages of ``todo`` into ``staging``, in ``jobs`` forked processes (1: here)."""
    global _BUILDER, _STAGING
    chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
    _BUILDER, _STAGING = builder, staging
    try:
        if jobs <= 1 or len(chunks) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return [u for chunk in chunks for u in _render_chunk(chunk)]
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            return [u for units in pool.map(_render_chunk, chunks) for u in units]
    finally:
        _BUILDER, _STAGING = None, None


def new_state(fp: str, made: list[ResourceUnit], keep: dict[str, dict[str, Any]], old: dict[str, Any] | None) -> dict:
    """The state of the site just written: every resource page's files, search entry and inputs."""
    keys: dict[str, int] = {}
    hashes: list[str] = []
    pages: dict[str, dict[str, Any]] = {}

    def index(key: str, value: str) -> int:
        n = keys.get(key)
        if n is None:
            n = keys[key] = len(hashes)
            hashes.append(value)
        return n

    for iri, entry in keep.items():
        assert old is not None
        deps = [index(old["keys"][i], old["hashes"][i]) for i in entry["deps"]]
        pages[iri] = {**entry, "deps": deps}
    for u in made:
        deps = [index(k, v) for k, v in u.deps.items()]
        files = {rel: list(st) for rel, st in u.stats.items()}
        pages[u.iri] = {"path": u.path, "files": files, "doc": list(u.doc), "deps": deps}
    return {
        "version": STATE_VERSION,
        "fingerprint": fp,
        "keys": list(keys),
        "hashes": hashes,
        "pages": dict(sorted(pages.items())),
    }


def save_state(target: Path, state: dict[str, Any]) -> None:
    path = state_path(target)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


__all__ = ["fingerprint", "link_kept", "load_state", "make_pages", "new_state", "plan", "save_state", "state_path"]
