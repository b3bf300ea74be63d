"""A rebuild after a few sources changed, in time proportional to the change.

The full fast build (:mod:`toolkit.build.release`) leaves a :class:`State` in the cache: which
unit each source folder gave (with the folder's file stats), the release files' stats and
checksums, every large file's layout (:mod:`toolkit.publish.splice`), and the sums over units
the release's headers and orders are made of (Turtle reference counts, prefixes, counts by
class, the catalog's index), plus the indexes the checks across sources need (who defines
which id and subject, who links to which IRI).

The next build first tries :func:`rebuild`. It stats the folders, computes the changed units
alone, and then, per stage:

* **checks across sources**: the full build's (:func:`toolkit.build.pipeline.link`) on the
  changed units against the state's index, and on the unchanged units that link to or describe
  an id that a change removed or retyped (cycles are searched through the changed links);
* **SHACL** on each changed unit and on each unit linking to a subject whose types or labels
  changed, with the types of what it links to as context, keeping the results about its own
  subjects. This is exact when every shape is *local*: class targets, one-IRI paths, values
  checked by their own form or their types, and SPARQL constraints whose triple patterns all
  start at ``$this`` (:func:`local_shapes`); the full build records whether that holds;
* **files**: the changed units' old blocks are dropped from the previous files and their new
  blocks spliced in (Turtle blocks whose reference count changed move), headers are made
  again from the sums;
* **catalog and DCAT-AP**: the full build's :class:`~toolkit.publish.catalog.CatalogBuild`,
  given the change: the parts owned by changed or affected sources are made again and the
  catalog-wide part is made anew; the DCAT-AP check runs on exactly those parts.

Whenever something is outside what it can do exactly (a problem to report, a shape that is
not local, many changed sources, a damaged cache, a release edited by hand) it returns None
and the full build runs: the release is byte-identical either way (tests compare them).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef, Variable
from rdflib.namespace import RDF, RDFS, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from toolkit.build.pipeline import LinkIndex, build_unit, cache_root, link, unit_model, unit_results
from toolkit.build.pool import run_all
from toolkit.config import Settings
from toolkit.export import units as U
from toolkit.export.blocks import DamagedCache, OutputProblems, Spec, Unsupported
from toolkit.publish import assemble as A
from toolkit.publish import atomic
from toolkit.publish import catalog as K
from toolkit.publish.catalog import catalog_conf
from toolkit.publish.datapackage import datapackage_files
from toolkit.publish.diff import diff_against, diff_release
from toolkit.publish.manifest import MANIFEST, Release, mismatch
from toolkit.publish.splice import Layout, read_block, splice
from toolkit.report import ValidationReport
from toolkit.schema.model import load_model
from toolkit.sources import loader
from toolkit.timing import stage
from toolkit.validate import VALIDATORS
from toolkit.validate.dcatap import SHAPES, dcat_ap_shapes
from toolkit.validate.shacl import schema_graph, validate_data

STATE_FORMAT = 4
TYPE_OR_LABEL = (" <" + str(RDF.type) + "> ", " <" + str(RDFS.label) + "> ")
#: beyond this share of changed sources a full build is as quick
MAX_CHANGED = 0.05


class Fallback(Exception):
    """The change is not one the incremental build makes exactly: run the full build."""


# ---------------------------------------------------------------------------------- the state


@dataclass
class State:
    """What a build leaves for the next one (see the module docstring)."""

    fingerprint: str
    folders: dict[str, tuple[int, str, tuple[Any, ...]]]  # folder -> (uid, unit key, stat signature)
    release: dict[str, tuple[int, Any, int, str]]  # file -> (size, (mtime_ns, ctime_ns), inode, sha256)
    layouts: dict[str, bytes]
    links: LinkIndex
    aggregates: Any
    triples: int
    validators: list[str]
    catalog: dict[str, Any]
    local: str | None  # None: the shapes and data allow per-unit validation; else why not
    next_uid: int = 0
    format: int = STATE_FORMAT


def fingerprint(settings: Settings, digest: str) -> str:
    h = hashlib.sha256(f"state={STATE_FORMAT};{digest}".encode())
    h.update(json.dumps([v.name for v in VALIDATORS]).encode())  # the manifest lists those that ran
    h.update(json.dumps(catalog_conf(settings), sort_keys=True, default=str).encode())
    h.update(str(settings.release_dir.resolve()).encode() + b"\0" + str(settings.sources_dir.resolve()).encode())
    return h.hexdigest()


def state_path(settings: Settings) -> Path:
    where = f"{settings.release_dir.resolve()}\0{settings.sources_dir.resolve()}".encode()
    return cache_root(settings) / "state" / (hashlib.sha256(where).hexdigest()[:24] + ".pickle")


def folder_signature(folder: Path | str) -> tuple[Any, ...]:
    """The folder's files by name, size, modification time and inode: what `git status` trusts."""
    out = []
    with os.scandir(folder) as it:
        for entry in it:
            if entry.is_file(follow_symlinks=True):
                st = entry.stat()
                out.append((entry.name, st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(sorted(out))


def scan_sources(sources_dir: Path) -> dict[str, tuple[Any, ...]]:
    """The source folders :func:`toolkit.sources.loader.source_folders` finds, in its order,
    with their signatures, in one pass over the directory entries (no stat for a folder)."""
    try:
        with os.scandir(sources_dir) as it:
            names = sorted(e.name for e in it if e.is_dir())
    except OSError:
        raise Fallback("the sources folder cannot be read") from None
    found = {}
    base = str(sources_dir)
    for name in names:
        path = os.path.join(base, name)
        sig = folder_signature(path)
        if any(entry[0] == loader.FACTS_FILE for entry in sig):
            found[path] = sig
    if not found:
        raise Fallback("no source folders")
    return found


def release_signature(folder: Path) -> dict[str, tuple[int, Any, int]]:
    """Every release file's size, modification and change times, and inode (the toolkit's marker
    left out). The change time is set by the kernel on any write or ``touch``, so a file altered
    and given back its old modification time is still seen as altered."""
    out = {}
    for p in atomic.release_files(folder):
        st = p.stat()
        out[str(p.relative_to(folder))] = (st.st_size, (st.st_mtime_ns, st.st_ctime_ns), st.st_ino)
    return out


@contextmanager
def _without_gc() -> Iterator[None]:
    """The cyclic collector off for a short run that makes many objects and no cycles
    (unpickling the state: four times faster without it); on again after, if it was on."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def load_state(settings: Settings) -> State | None:
    with _without_gc():
        try:
            with open(state_path(settings), "rb") as fh:
                state = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            return None
    return state if isinstance(state, State) and state.format == STATE_FORMAT else None


def save_state(settings: Settings, state: State) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def full_state(
    settings: Settings, units: list[U.Unit], links: LinkIndex, files: Any, report: ValidationReport, local: str | None
) -> State:
    """The state a full fast build leaves (``files``: the written release, with layouts)."""
    digest = U.code_digest(settings)
    state = State(
        fingerprint=fingerprint(settings, digest),
        folders={},
        release={},
        layouts=dict(files.layouts),
        links=links,
        aggregates=files.aggregates,
        triples=sum(u.triples for u in units),
        validators=list(report.validators_run),
        catalog=files.aggregates.catalog,
        local=local,
        next_uid=len(units),
    )
    for uid, unit in enumerate(units):
        state.folders[unit.folder] = (uid, unit.key, folder_signature(Path(unit.folder)))
        if local is None and unit.states_subclass:
            state.local = "a source states rdfs:subClassOf"
    state.aggregates.catalog = None
    return state


def record_release(state: State, settings: Settings, sha256: dict[str, str]) -> None:
    """Note the release on disk as this state's (after the swap, or a check that found it equal).

    Every file the build made is noted, found on disk or not: a file missing (or one more on
    disk) makes the next build see a release that is not this state's, and rebuild it."""
    sig = release_signature(settings.release_dir)
    state.release = {rel: (*sig.get(rel, (-1, -1, -1)), digest) for rel, digest in sha256.items()}


def publish(
    settings: Settings,
    staging: Path,
    files: Any,
    manifest: dict[str, Any],
    report: ValidationReport,
    state: State,
    check: bool,
    recorded: dict[str, tuple[int, Any, int, str]] | None = None,
) -> Release:
    """The end of every build, full or incremental: compare the staged release with the one on
    disk (``check``: a difference is an error) or swap it in; then note the release as
    ``state``'s and save the state for the next build. ``recorded``: the sizes and checksums of
    the release on disk as the previous build noted them (trusted where the disk matched them,
    see :func:`rebuild`; ``--check`` always reads the real bytes)."""
    target = settings.release_dir
    with stage("diff"):
        changed = diff_release(target, files) if check or recorded is None else diff_against(recorded, files)
    release = Release(
        files=files.moved_to(target),
        manifest=manifest,
        report=report,
        changed=changed,
        graph_loader=lambda: _graph(target),
    )
    if check and changed:
        raise mismatch(settings, changed)
    if changed and not check:
        with stage("swap"):
            atomic.swap_in(staging, target)
    with stage("state"):
        record_release(state, settings, files.sha256)
        save_state(settings, state)
    return release


# ------------------------------------------------------------------------------ locality


def local_shapes(shapes: Graph) -> str | None:
    """None when every shape's results about a node depend only on the node's own triples and
    on the types of the nodes it links to (see the module docstring); else the reason."""
    for p in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        if (None, p, None) in shapes:
            return f"a shape uses {shapes.namespace_manager.normalizeUri(p)}"
    for path in shapes.objects(None, SH.path):
        if not isinstance(path, URIRef):
            return "a shape uses a property path that is not one IRI"
    for p in (SH.node, SH.qualifiedValueShape):
        for o in shapes.objects(None, p):
            if (o, SH.property, None) in shapes:
                return "a nested shape looks at the properties of another node"
    for c in shapes.objects(None, SH.sparql):
        text = shapes.value(c, SH.select)
        if text is None:
            return "a SPARQL constraint that is not a SELECT"
        # only the prefixes the query may use: rdflib's parser takes longer over the declarations
        # of the shapes graph's ~30 prefixes than over the query itself (a fixed cost of a build)
        prefixes = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in shapes.namespaces() if p and f"{p}:" in text)
        try:
            query = prepareQuery(prefixes + str(text))
        except Exception as exc:
            return f"a SPARQL constraint that cannot be analysed ({exc})"
        if not _only_this(query.algebra):
            return "a SPARQL constraint reaches beyond the focus node's own triples"
    return None


def _only_this(node: Any) -> bool:
    """Every triple pattern anywhere in the algebra is ``$this <iri> ?x`` (no paths, no other subject)."""
    if isinstance(node, CompValue):
        if node.name in ("ServiceGraphPattern", "Graph", "SubSelect"):
            return False
        for key, value in node.items():
            if key == "triples":
                for s, p, _o in value:
                    if s != Variable("this") or not isinstance(p, URIRef):
                        return False
            elif not _only_this(value):
                return False
        return True
    if isinstance(node, (list, tuple)):
        return all(_only_this(v) for v in node)
    if isinstance(node, dict):
        return all(_only_this(v) for v in node.values())
    return True


def fragment_results(
    shapes: Graph, ontology: Graph | None, lines: list[str], context: list[str], focus: set[str]
) -> list[Any]:
    """The SHACL results about ``focus`` on a fragment of the data (its lines and the ``context``
    lines of what it links to), with the default engine."""

    every = lines + context
    data = ("\n".join(every) + "\n").encode("utf-8") if every else b""
    results, _report = validate_data(data, shapes, ontology)
    return [r for r in results if r.focus_node in focus]


# ------------------------------------------------------------------------------ the rebuild


class _Units:
    """Units read from the cache by key (or by the uid the state gave their folder), once each."""

    def __init__(self, state: State, root: Path) -> None:
        self.root = root
        self.loaded: dict[str, U.Unit] = {}
        self.keys = {uid: key for uid, key, _sig in state.folders.values()}
        self._type_label: dict[str, dict[str, list[str]]] = {}

    def type_label_lines(self, unit: U.Unit) -> dict[str, list[str]]:
        """A unit's rdf:type and rdfs:label lines by subject (parsed once per unit)."""
        if unit.key not in self._type_label:
            out: dict[str, list[str]] = {}
            for line in unit.line_list():
                if TYPE_OR_LABEL[0] in line or TYPE_OR_LABEL[1] in line:
                    out.setdefault(line[1 : line.index("> ")], []).append(line)
            self._type_label[unit.key] = out
        return self._type_label[unit.key]

    def of(self, uid: int) -> U.Unit:
        if uid not in self.keys:
            raise Fallback(f"no source with uid {uid}")
        return self.get(self.keys[uid])

    def get(self, key: str) -> U.Unit:
        if key not in self.loaded:
            unit = U.load(self.root / key[:2] / f"{key}.pickle")
            if unit is None or unit.key != key or unit.source is None or not U.has_render(unit):
                raise Fallback(f"unit {key[:12]} is not in the cache")
            self.loaded[key] = unit
        return self.loaded[key]


#: how the last :func:`rebuild` in this process went: ("incremental", "") or ("full", why)
last_run: tuple[str, str] = ("full", "no rebuild yet")


def rebuild(settings: Settings, *, check: bool = False, jobs: int) -> Release | None:
    """The release after a few sources changed, or None when the full build must run."""
    global last_run
    with stage("state"):
        state = load_state(settings)
    if state is None:
        last_run = ("full", "no state from a previous build")
        return None
    try:
        with _without_gc():
            release = _rebuild(settings, state, check=check, jobs=jobs)
    except (Fallback, DamagedCache, Unsupported, OutputProblems) as exc:  # the full build reports them
        last_run = ("full", str(exc) or type(exc).__name__)
        return None
    last_run = ("incremental", "")
    return release


def _rebuild(settings: Settings, state: State, *, check: bool, jobs: int) -> Release | None:
    with stage("units:hash"):
        loader.facts_schema(settings)
        digest = U.code_digest(settings)
        if state.fingerprint != fingerprint(settings, digest):
            raise Fallback("the code, schema or settings changed")
        if state.local is not None:
            raise Fallback(f"the previous build cannot be updated per source: {state.local}")
        target = settings.release_dir
        on_disk = release_signature(target) if target.is_dir() else {}
        if {rel: v[:3] for rel, v in state.release.items()} != on_disk:
            raise Fallback("the release on disk is not the one this state describes")
        signatures = scan_sources(settings.sources_dir)
        folders = list(signatures)
        changed: list[tuple[str, str]] = []  # (folder, new key)
        for folder, sig in signatures.items():
            old = state.folders.get(folder)
            if old is not None and old[2] == sig:
                continue
            key = U.unit_key(Path(folder), digest)
            if old is None or old[1] != key:
                changed.append((folder, key))
        removed = [f for f in state.folders if f not in signatures]
    if len(changed) + len(removed) > max(4, MAX_CHANGED * len(folders)):
        raise Fallback("many sources changed")
    if not changed and not removed:  # same inputs as the build that made the release on disk
        if any(state.folders[f][2] != sig for f, sig in signatures.items()):
            state.folders = {f: (*state.folders[f][:2], sig) for f, sig in signatures.items()}
            if not check:
                save_state(settings, state)
        return _unchanged(settings, state, check=check)
    root = cache_root(settings) / "units"
    units = _Units(state, root)
    with stage("units"):
        ctx = U.StageContext(settings=settings, digest=digest)
        todo = [
            (f, k, str(root / k[:2] / f"{k}.pickle"), ctx)
            for f, k in changed
            if not (root / k[:2] / f"{k}.pickle").is_file()
        ]
        for _key in run_all(build_unit, todo, jobs):  # lazy: run it to its end
            pass
        pairs: list[tuple[int, U.Unit | None, U.Unit | None]] = []  # (uid, old, new)
        for folder, key in changed:
            new = U.load(root / key[:2] / f"{key}.pickle")
            if new is None or new.load_error is not None or new.source is None or new.local_problems:
                raise Fallback("a changed source has problems to report")
            if not U.has_render(new):
                raise Fallback("a changed source has no renderings")
            units.loaded[key] = new
            old = state.folders.get(folder)
            if old is None:
                pairs.append((state.next_uid, None, new))
                state.next_uid += 1
            else:
                pairs.append((old[0], units.get(old[1]), new))
        for folder in removed:
            uid, key, _sig = state.folders[folder]
            pairs.append((uid, units.get(key), None))
    old_shared = {s: set(users) for s, users in state.links.shared.items()}
    with stage("link"):
        _check_links(state, settings, pairs, units)
    with tempfile.TemporaryDirectory(prefix="policy-toolkit-merged-") as merged:
        with stage("units"):
            plan = _Plan(settings, state, old_shared, pairs, units, Path(merged))
        with stage("validation"):
            affected = _affected(state, pairs, units)
            _validate(state, settings, plan, affected, units)
            _validate_units(settings, pairs)
        # an unchanged source sharing a subject with a changed one: its catalog part is made again
        affected |= plan.members - plan.changed
        return _write(settings, state, pairs, plan, affected, units, folders, signatures, check=check)


class _Plan:
    """The changed units as the formats made of subjects (Turtle, N-Triples, RDF/XML, JSON-LD,
    CSV) see them, before and after the change: a unit alone, or the units that state triples
    about a common subject as one unit rendered from all their lines (as the full build does,
    :func:`toolkit.publish.assemble.subject_units`). ``members`` are the changed units and every
    unit grouped with one of them, before or after: their blocks are made again; a group's
    blocks belong to its first uid."""

    def __init__(
        self,
        settings: Settings,
        state: State,
        old_shared: dict[str, set[int]],
        pairs: list[Any],
        units: _Units,
        folder: Path,
    ) -> None:
        old = {uid: o for uid, o, _n in pairs}
        new = {uid: n for uid, _o, n in pairs}
        self.changed = set(old)
        self.before: Callable[[int], U.Unit | None] = lambda uid: old[uid] if uid in old else units.of(uid)
        self.after: Callable[[int], U.Unit | None] = lambda uid: new[uid] if uid in new else units.of(uid)
        self.members = set(self.changed)
        todo = list(self.members)
        while todo:
            uid = todo.pop()
            for m in (*A.group_of(old_shared, uid, self.before), *A.group_of(state.links.shared, uid, self.after)):
                if m not in self.members:
                    self.members.add(m)
                    todo.append(m)
        model = load_model(settings.schema_dir)
        self.groups = A.subject_groups(self.members, state.links.shared, self.after)
        old_groups = A.subject_groups(self.members, old_shared, self.before)
        self.old_renders = [u for _o, u in A.subject_units(old_groups, self.before, settings, model, folder)]
        self.new_renders = A.subject_units(self.groups, self.after, settings, model, folder)


def _validate_units(settings: Settings, pairs: list[Any]) -> None:
    """The per-source validators on each changed unit; a result makes the rebuild a full one,
    which reports it in order."""
    model = unit_model(settings.schema_dir)
    if any(unit_results(new, settings, model) for _uid, _old, new in pairs if new is not None):
        raise Fallback("a changed source has results of a per-source validator")


def _check_links(state: State, settings: Settings, pairs: list[Any], units: _Units) -> None:
    """Fallback unless the corpus after the change passes the checks across sources (the full
    build's, on the changed units against the state's index)."""
    new = {uid: n for uid, _o, n in pairs if n is not None}
    if any(n.states_subclass for n in new.values()):
        raise Fallback("a source states rdfs:subClassOf")
    problems = link(pairs, state.links, settings, lambda uid: new.get(uid) or units.of(uid), budget=20000)
    if problems:
        raise Fallback(f"a problem across sources: {problems[0].message}")


def _affected(state: State, pairs: list[Any], units: _Units) -> set[int]:
    """Units not changed themselves that link to a subject whose types or labels changed."""
    mine = {uid for uid, _o, _n in pairs}
    out: set[int] = set()
    for _uid, old, new in pairs:
        before = units.type_label_lines(old) if old is not None else {}
        after = units.type_label_lines(new) if new is not None else {}
        for s in set(before) | set(after):
            if before.get(s) != after.get(s):
                out |= state.links.referrers.get(s, set())
    return out - mine


def _validate(state: State, settings: Settings, plan: _Plan, affected: set[int], units: _Units) -> None:
    """SHACL on the changed and affected units, each with the types of what it links to; units
    that state triples about a common subject are validated together (the subject's triples are
    the union of theirs), and so is every unit of a group that a change joined or split."""
    shapes = schema_graph(settings.schema_dir / "shapes.ttl")
    ontology = schema_graph(settings.schema_dir / "ontology.ttl")
    groups = list(plan.groups)
    seen = set(plan.members)
    for uid in sorted(affected - seen):
        group = A.group_of(state.links.shared, uid, plan.after)
        seen.update(group)
        groups.append(group)
    for group in groups:
        members = [u for u in map(plan.after, group) if u is not None]
        lines = sorted({ln for u in members for ln in u.line_list()}) if len(members) > 1 else members[0].line_list()
        subjects = {s for u in members for s in u.subjects}
        context = []
        for iri in sorted({iri for u in members for iri in u.external} - subjects):
            for owner in sorted(state.links.describers(iri)):
                unit = plan.after(owner)
                if unit is not None:
                    context.extend(ln for ln in units.type_label_lines(unit).get(iri, []) if TYPE_OR_LABEL[0] in ln)
        if fragment_results(shapes, ontology, lines, context, subjects):
            raise Fallback("SHACL results to report")


def _write(
    settings: Settings,
    state: State,
    pairs: list[Any],
    plan: _Plan,
    affected: set[int],
    units: _Units,
    folders: list[str],
    signatures: dict[str, tuple[Any, ...]],
    *,
    check: bool,
) -> Release | None:

    model = load_model(settings.schema_dir)
    target = settings.release_dir
    staging = atomic.new_staging(target)
    try:
        files = A.StagedFiles(staging)
        agg = state.aggregates
        for unit in plan.old_renders:
            agg.add(unit, -1)
        for _owner, unit in plan.new_renders:
            agg.add(unit, 1)
        _splice_data(files, settings, state, model, pairs, plan, target)
        for rel in ("validation-report.ttl", "validation-report.json"):
            if rel in state.release:
                shutil.copyfile(target / rel, staging / rel)
                files.sizes[rel] = state.release[rel][0]
                files.sha256[rel] = state.release[rel][3]
        with stage("datapackage"):
            for rel, data in datapackage_files(model, files).items():
                files.write(rel, data)
        with stage("catalog"):
            cat_results = _catalog(files, settings, state, model, pairs, affected, units, target)
        with stage("dcat-ap"):
            if cat_results:
                raise Fallback("DCAT-AP results to report")
        # a triple two sources state is published once: counted on the merged units
        state.triples += sum(u.triples for _o, u in plan.new_renders) - sum(u.triples for u in plan.old_renders)
        new_folders: dict[str, tuple[int, str, tuple[Any, ...]]] = {}
        keys = {n.folder: (uid, n.key) for uid, _o, n in pairs if n is not None}
        for folder in folders:
            uid, key = keys.get(folder) or state.folders[folder][:2]
            new_folders[folder] = (uid, key, signatures[folder])
        state.folders = new_folders
        report = ValidationReport(validators_run=list(state.validators))
        with stage("manifest"):
            entries = [(Path(n.folder).name, uid, A.manifest_source(n, settings)) for uid, _o, n in pairs if n]
            spec, blocks = A.manifest_blocks(files, settings, state.triples, agg, report, entries)
            _splice(files, state, target, MANIFEST, spec, {uid for uid, _o, _n in pairs}, blocks)
            manifest = A.read_manifest(files)
        state.layouts.update(files.layouts)
        recorded = state.release
        return publish(settings, staging, files, manifest, report, state, check, recorded)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _unchanged(settings: Settings, state: State, *, check: bool) -> Release:
    """The sources are those of the release this state describes. ``build`` trusts the state
    where the disk matches it by size, modification time and inode (else the full build ran);
    ``build --check`` compares the real bytes on disk with what the sources give."""

    target = settings.release_dir
    files = A.StagedFiles(target)
    files.sizes = {rel: v[0] for rel, v in state.release.items()}
    files.sha256 = {rel: v[3] for rel, v in state.release.items()}
    if check:
        with stage("diff"):
            changed = diff_release(target, files)
        if changed:
            raise mismatch(settings, changed)
    return Release(
        files=files,
        manifest=json.loads((target / MANIFEST).read_bytes()),
        report=ValidationReport(validators_run=list(state.validators)),
        changed=[],
        graph_loader=lambda: _graph(target),
    )


def _graph(target: Path) -> Graph:
    """The release's graph, read from its N-Triples on demand (no build holds an rdflib graph)."""
    g = Graph()
    g.parse(target / "policy.nt", format="nt")
    return g


def _splice(
    files: Any,
    state: State,
    target: Path,
    rel: str,
    spec: Any,
    owners: set[int],
    add: list[Any],
    *,
    drop: Callable[[Any], set[int]] | None = None,
    rekey: Callable[[str], int] | None = None,
) -> None:
    """Splice ``rel``: drop the blocks of ``owners`` (and those ``drop`` picks from the old
    layout), add ``add``; with ``rekey``, a kept block whose key (count, subject) changed
    moves to its new key, its bytes unchanged (see :attr:`toolkit.export.blocks.Format.rekey`)."""
    old = Layout.loads(state.layouts[rel])
    dropped = set(old.indices_of_owners(owners)) | (drop(old) if drop else set())
    add = list(add)
    if rekey is not None:
        for i, (count, subject) in enumerate(old.keys):
            if i not in dropped and rekey(subject) != count:
                dropped.add(i)
                add.append(((rekey(subject), subject), old.owners[i], read_block(target / rel, old, i)))
    path = files.folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = splice(target / rel, old, path, spec, drop=sorted(dropped), add=add)
    except ValueError as exc:
        raise Fallback(str(exc)) from None
    files.record(rel, written)


def _splice_data(
    files: Any, settings: Settings, state: State, model: Any, pairs: list[Any], plan: _Plan, target: Path
) -> None:
    """Every data file spliced, as the full build writes them (:func:`A.write_data_files`), from
    the changed sources' own units and the units of :class:`_Plan` (merged where they share a
    subject): the blocks of the sources they replace are dropped."""
    mine = {uid for uid, _o, _n in pairs}

    def put(rel: str, spec: Spec, per_source: bool, add: list[Any], rekey: Callable[[str], int] | None) -> None:
        _splice(files, state, target, rel, spec, mine if per_source else plan.members, add, rekey=rekey)

    news = [(uid, n) for uid, _o, n in pairs if n is not None]
    A.write_data_files(files, settings, model, news, plan.new_renders, state.aggregates, splice=put)
    if state.aggregates.output_problems:
        raise Fallback("a changed source's renderings break their JSON Schemas")


def _catalog(
    files: Any,
    settings: Settings,
    state: State,
    model: Any,
    pairs: list[Any],
    affected: set[int],
    units: _Units,
    target: Path,
) -> list[Any]:
    """catalog.ttl and catalog.jsonld spliced (the full build's :class:`K.CatalogBuild`, given
    the change); the DCAT-AP results of the parts made again.

    The sources' own parts are made again for changed and affected sources; the global part
    is made anew, but only the subjects whose lines changed get a new block and a new check
    (the catalog and release nodes, which list every source, are kept as long as no source
    comes or goes)."""
    cat = K.CatalogBuild(settings, model, state.catalog)
    old = [(uid, o) for uid, o, _n in pairs if o is not None]
    cat.update(files, [(uid, n) for uid, _o, n in pairs if n is not None], old, [(u, units.of(u)) for u in affected])
    remade = {uid for uid, _o, _n in pairs} | affected
    spec, ttl = cat.ttl()

    def changed(subject_of: Callable[[Any], str]) -> Callable[[Any], set[int]]:
        return lambda layout: {i for i, key in enumerate(layout.keys) if subject_of(key) in cat.changed_global}

    _splice(files, state, target, "catalog.ttl", spec, remade, ttl, drop=changed(lambda k: k[1]), rekey=cat.refs)
    drop = changed(lambda key: key.split("\x01", 1)[1])
    _splice(files, state, target, "catalog.jsonld", K.JSONLD_SPEC, remade, cat.jsonld(), drop=drop)
    state.catalog = cat.state()
    return _dcat_ap(settings, cat, remade)


def _object(line: str) -> str | None:
    obj = U.split_line(line)[2]
    return obj[1:-1] if obj.startswith("<") else None


def _dcat_ap(settings: Settings, cat: K.CatalogBuild, remade: set[int]) -> list[Any]:
    """DCAT-AP on what was made again, each part with the types of what it links to.

    A global subject is checked again when its lines changed or when it links to a source's
    subject whose types changed (the sources' parts link to global subjects whose types come
    from the data, so a change there made the linking source an affected one already)."""
    shapes = dcat_ap_shapes(settings.schema_dir / SHAPES)
    if local_shapes(shapes) is not None:
        raise Fallback("the DCAT-AP shapes are not local")
    before = K.group_lines(sorted(ln for uid in remade for ln in cat.types_before.get(uid, [])))
    after = K.group_lines(sorted(ln for uid in remade for ln in cat.owned_types.get(uid, [])))
    retyped = {s for s in set(before) | set(after) if before.get(s) != after.get(s)}
    recheck = dict(cat.changed_global)
    if retyped:
        for s, lines in K.group_lines(cat.global_lines).items():
            if s not in recheck and any(_object(ln) in retyped for ln in lines):
                recheck[s] = lines
    type_of: dict[str, list[str]] = {}
    for group in (*cat.owned_types.values(), *(g.types for g in cat.global_memo.values())):
        for ln in group:
            type_of.setdefault(ln[1 : ln.index("> ")], []).append(ln)

    def context(lines: list[str]) -> list[str]:
        """The type lines of what the lines link to."""
        out: dict[str, None] = {}
        for ln in lines:
            obj = _object(ln)
            if obj is not None:
                out.update(dict.fromkeys(type_of.get(obj, ())))
        return list(out)

    lines = [ln for group in recheck.values() for ln in group]
    results = fragment_results(shapes, None, lines, context(lines), set(recheck)) if lines else []
    by_source: dict[int, list[str]] = {}
    for key, block in cat.owned.items():
        by_source.setdefault(cat.owner(key[1:-2]), []).extend(block.decode("utf-8").split("\n")[:-1])
    for own_lines in by_source.values():
        own_lines.sort()
        own = {ln[1 : ln.index("> ")] for ln in own_lines}
        results += fragment_results(shapes, None, own_lines, context(own_lines), own)
    return results
