"""The fast build: per-source units in a process pool (cached), checks across sources, the
default SHACL engine (`toolkit.validate.shacl`), and a release assembled from the units' per-subject renderings.

It gives the same report as :func:`toolkit.validate.validate_sources` and the same bytes as
:func:`toolkit.publish.release.assemble` (tests compare both on the real article and on
generated corpora with injected defects), at a fraction of the time and memory.
"""

from __future__ import annotations

import difflib
import io
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.build.pool import run_all
from toolkit.config import Settings
from toolkit.errors import UsageError
from toolkit.export import units as U
from toolkit.export.blocks import Unsupported
from toolkit.filememo import while_unchanged
from toolkit.progress import progress
from toolkit.publish.assemble import FastOutcome, data_namespaces
from toolkit.report import ValidationReport, ValidationResult
from toolkit.schema.model import Model, load_model
from toolkit.sources import loader
from toolkit.timing import add, give_back_memory, stage
from toolkit.validate import RELEASE_CHECKS, VALIDATORS
from toolkit.validate.base import UnitContext, UnitValidator, ValidationContext, Validator
from toolkit.validate.facts import LoadResultsValidator
from toolkit.validate.shacl import property_lines, schema_graph, validate_data

CACHE_DIR = Path(".cache") / "policy-toolkit"


def unit_model(schema_dir: Path) -> Model:
    """The model the units' checks use, read once per process (a worker) while ``model.yaml`` is
    unchanged, as :func:`schema_graph` keeps the schema graphs: a process that builds twice (the
    library, ``serve``, the tests) sees an edited model."""
    return while_unchanged(schema_dir / "model.yaml", load_model, schema_dir)


def cache_root(settings: Settings) -> Path:
    env = os.environ.get("POLICY_TOOLKIT_CACHE")
    return Path(env) if env else settings.root / CACHE_DIR


# ------------------------------------------------------------------------------- the units


def build_unit(item: tuple[str, str, str, U.StageContext]) -> str:
    """Process one source folder into its unit and pickle it to the cache; returns its key.

    A top-level function so the process pool can send it to workers; the incremental
    rebuild runs it too.
    """
    folder, key, path, ctx = item
    unit = U.process_folder(Path(folder), ctx, key)
    if unit.lines is not None and unit.source is not None:
        t = time.perf_counter()
        unit.checks = unit_checks(unit, ctx.settings)
        unit.timings["checks"] = time.perf_counter() - t
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    U.dump(unit, target)
    return key


def collect_units(settings: Settings, *, jobs: int = 1, cache: Path | None = None) -> list[U.Unit]:
    """Every source folder's unit, from the cache where its content hash is known."""
    loader.facts_schema(settings)  # unreadable schema: the same LoadError as the naive loader
    folders = loader.source_folders(settings.sources_dir)
    with stage("units:hash"):
        ctx = U.StageContext(settings=settings, digest=U.code_digest(settings))
        root = (cache or cache_root(settings)) / "units"
        keys = [U.unit_key(f, ctx.digest) for f in folders]
    paths = [root / k[:2] / f"{k}.pickle" for k in keys]
    todo = [(str(f), k, str(p), ctx) for f, k, p in zip(folders, keys, paths, strict=True) if not p.is_file()]
    t_pool = time.perf_counter()
    if todo:
        # A bar on a terminal for the one long stage of a large build; silent in pipes and CI.
        with progress("sources", len(todo)) as tick:
            for _ in run_all(build_unit, todo, jobs):
                tick.advance()
    add("units:pool", time.perf_counter() - t_pool)
    t_load = time.perf_counter()
    computed = {item[1] for item in todo}
    units = []
    for f, k, p in zip(folders, keys, paths, strict=True):
        unit = U.load(p)
        # a unit made in this run has every rendering (the worker wrote them before the unit);
        # one from an earlier run may have lost a file: the check stats six files per unit
        damaged = unit is not None and k not in computed and unit.has_nt and not U.has_render(unit)
        if unit is None or unit.key != k or damaged:  # damaged: again
            unit = U.process_folder(f, ctx, k)
            U.dump(unit, p)
            computed.add(k)
        unit.fresh = k in computed
        units.append(unit)
    add("units:read", time.perf_counter() - t_load)
    for unit in units:
        if unit.load_error is not None:
            raise unit.load_error
    return units


# ----------------------------------------------------------------------- checks across sources


def _result(facts_rel: str, line: int | None, message: str, **kw: Any) -> ValidationResult:
    return ValidationResult(validator="facts", message=message, source_file=facts_rel, line=line, **kw)


#: (uid, the unit before, the unit after): a unit added (before None), changed, or removed (after None)
Change = tuple[int, "U.Unit | None", "U.Unit | None"]


@dataclass
class LinkIndex:
    """Who defines each source id and entity id, who states triples about each subject and who
    links to each IRI: what the checks across sources read of the units they do not check. The
    full build makes it (:func:`link` with every unit added), the state keeps it, and a rebuild
    updates it by the changed units alone."""

    source_owner: dict[str, int] = field(default_factory=dict)
    entity_owner: dict[str, int] = field(default_factory=dict)
    subject_owner: dict[str, int] = field(default_factory=dict)  # a subject -> a unit that describes it
    shared: dict[str, set[int]] = field(default_factory=dict)  # a subject two or more units describe -> all
    referrers: dict[str, set[int]] = field(default_factory=dict)  # an IRI -> the units linking to it

    def add(self, uid: int, unit: U.Unit, sign: int) -> None:
        """Note (sign 1) or forget (-1) a unit's subjects and links; forget its ids."""
        for s in unit.subjects:
            self._subject(s, uid, sign)
        for iri in unit.external:
            users = self.referrers.setdefault(iri, set())
            (users.add if sign > 0 else users.discard)(uid)
            if not users:
                del self.referrers[iri]
        if sign < 0:  # its ids: :func:`link` notes them as it checks them
            owned = [(self.entity_owner, e.id) for e in unit.entities if not e.about]
            for index, key in [(self.source_owner, unit.source.id if unit.source else ""), *owned]:
                if index.get(key) == uid:
                    del index[key]

    def _subject(self, subject: str, uid: int, sign: int) -> None:
        """One owner in ``subject_owner``, and every describer in ``shared`` while there are two or more."""
        users = self.shared.get(subject)
        if sign > 0:
            owner = self.subject_owner.setdefault(subject, uid)
            if owner != uid:
                self.shared.setdefault(subject, {owner}).add(uid)
        elif users is not None:
            users.discard(uid)
            self.subject_owner[subject] = min(users)
            if len(users) == 1:
                del self.shared[subject]
        elif self.subject_owner.get(subject) == uid:
            del self.subject_owner[subject]

    def describers(self, subject: str) -> set[int]:
        """Every unit that states triples about ``subject`` (none when it is no unit's subject)."""
        if subject in self.shared:
            return set(self.shared[subject])
        owner = self.subject_owner.get(subject)
        return set() if owner is None else {owner}


class _Entities(Mapping[str, loader.Known]):
    """Every defined entity as the subject check reads it, looked up through the index (an
    unchanged unit is read only when one of its entities is asked for)."""

    def __init__(self, index: LinkIndex, unit_of: Callable[[int], U.Unit]) -> None:
        self.index, self.unit_of = index, unit_of

    def find(self, eid: str) -> tuple[U.Unit, U.EntitySummary] | None:
        uid = self.index.entity_owner.get(eid)
        unit = None if uid is None else self.unit_of(uid)
        for ent in unit.entities if unit is not None else ():
            if ent.id == eid and not ent.about:
                return unit, ent
        return None

    def __getitem__(self, eid: str) -> loader.Known:
        found = self.find(eid)
        if found is None:
            raise KeyError(eid)
        unit, ent = found
        return loader.Known(ent.types, unit.source.id if unit.source else "", ent.line, ent.label)

    def __iter__(self) -> Iterator[str]:
        return iter(self.index.entity_owner)

    def __len__(self) -> int:
        return len(self.index.entity_owner)


def link(
    changes: list[Change],
    index: LinkIndex,
    settings: Settings,
    unit_of: Callable[[int], U.Unit],
    *,
    budget: int | None = None,
) -> list[ValidationResult]:
    """The problems :func:`toolkit.sources.loader.load_corpus` reports across sources, from the
    units' summaries, for the ``changes`` against ``index`` (updated): the full build passes
    every unit as added to an empty index, a rebuild its changed units alone. The links of an
    unchanged unit to an id that a change removed or retyped are checked again too; a cycle is
    searched through the changed entities' links (``budget``: at most that many entities
    reached, else :class:`~toolkit.export.blocks.Unsupported`)."""
    base = settings.base_iri
    results: list[ValidationResult] = []
    entities = _Entities(index, unit_of)
    pending: list[tuple[U.Unit, str, str | None, str, str, int | None]] = []
    subjects: list[tuple[U.Unit, U.EntitySummary]] = []
    ghosts: set[str] = set()
    mine = {uid for uid, _old, _new in changes}
    before: dict[str, tuple[str, ...]] = {}  # the ids the changed units defined, with their types
    for uid, old, _new in changes:
        if old is not None:
            before.update((e.id, e.types) for e in old.entities if not e.about)
            index.add(uid, old, -1)
    starts: dict[str, tuple[U.Unit, U.EntitySummary]] = {}
    for uid, _old, unit in changes:
        if unit is None:
            continue
        results.extend(unit.schema_problems)
        ghosts.update(unit.ghosts)
        if unit.source is None:
            results.extend(unit.source_problems)
            continue
        src = unit.source
        results.extend(unit.graph_problems)
        if src.id in index.source_owner:
            used_by = unit_of(index.source_owner[src.id]).folder
            results.append(_result(unit.facts_rel, src.id_line, f"source id '{src.id}' is also used by {used_by}"))
        index.source_owner[src.id] = uid
        pending.extend((unit, src.id, src.label_zh, p, ref, line) for p, ref, line in src.refs)
        for ent in unit.entities:
            results.extend(ent.load_problems)
            if not ent.about and ent.id in index.entity_owner:
                other_unit, other = entities.find(ent.id) or (unit, ent)
                where = f"{other_unit.facts_rel}:{other.line}"
                message = loader.duplicate_message(ent.id, unit.facts_rel, where)
                results.append(_result(unit.facts_rel, ent.id_line, message, focus_node=base + ent.id, value=ent.id))
                continue
            if ent.about:
                subjects.append((unit, ent))
            else:
                index.entity_owner[ent.id] = uid
                starts[ent.id] = (unit, ent)
            results.extend(ent.evidence_problems)
            pending.extend((unit, ent.id, ent.label, p, ref, line) for p, ref, line in ent.refs)
        index.add(uid, unit, 1)
    # an unchanged unit that links to, or describes, an id that went or changed its types
    for eid, types in before.items():
        if eid in starts and starts[eid][1].types == types:
            continue
        for uid in sorted((index.referrers.get(base + eid, set()) | index.describers(base + eid)) - mine):
            unit = unit_of(uid)
            pending.extend(
                (unit, e.id, e.label, p, ref, line) for e in unit.entities for p, ref, line in e.refs if ref == eid
            )
            subjects.extend((unit, e) for e in unit.entities if e.about and e.id == eid)
    names = None
    for unit, focus, label, prop, ref, line in pending:
        if ref in index.entity_owner or ref in ghosts:
            continue
        if names is None:
            names = list(index.entity_owner)
        close = difflib.get_close_matches(ref, names, n=1)
        tip = f"; did you mean '{close[0]}'?" if close else "; define an entity with this id"
        message = f"unknown reference '{ref}' in {prop}{tip}"
        results.append(
            _result(unit.facts_rel, line, message, focus_node=base + focus, focus_label=label, path=prop, value=ref)
        )
    model = unit_model(settings.schema_dir)
    for unit, ent in subjects:
        target = entities.get(ent.id)
        if target is None and ent.id in ghosts:
            continue
        source_id = unit.source.id if unit.source else ""
        for message, key in loader.subject_problems(ent.id, source_id, list(ent.keys), entities, model):
            results.append(
                _result(
                    unit.facts_rel,
                    ent.lines.get(key, ent.line) if key != "subject" else ent.id_line or ent.line,
                    message,
                    focus_node=base + ent.id,
                    focus_label=target.label if target else None,
                    path=None if key == "subject" else key,
                    value=ent.id if key == "subject" else None,
                )
            )
    results.extend(loader.reference_cycles(_reachable(starts, entities, budget), settings))
    return results


def _reachable(
    starts: dict[str, tuple[U.Unit, U.EntitySummary]], entities: _Entities, budget: int | None
) -> dict[str, loader.Entity]:
    """The entities a cycle through ``starts`` may pass: those reached from them through links
    of the property they start by (a new cycle goes through a changed link; with every entity
    as a start, that is every entity, read from ``starts`` alone)."""
    out: dict[str, loader.Entity] = {}
    for eid, (unit, ent) in starts.items():
        out[eid] = U.entity_stub(ent, unit.source.id if unit.source else "", Path(unit.facts_rel))
    if len(starts) == len(entities):  # every entity a start: nothing more to reach
        return out
    seen: set[tuple[str, str]] = set()
    todo = [(ref, prop) for _u, e in starts.values() for prop, ref, _l in e.refs]
    while todo:
        eid, prop = todo.pop()
        if (eid, prop) in seen:
            continue
        seen.add((eid, prop))
        found = starts.get(eid) or entities.find(eid)
        if found is None:
            continue
        unit, ent = found
        if eid not in out:
            if budget is not None and len(out) >= budget:
                raise Unsupported("a long chain of references")
            out[eid] = U.entity_stub(ent, unit.source.id if unit.source else "", Path(unit.facts_rel))
        todo.extend((ref, p) for p, ref, _l in ent.refs if p == prop)
    return out


# ------------------------------------------------------------------------------ the outcome


def locate_map(units: list[U.Unit], settings: Settings, model: Model) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for unit in units:
        for ent in unit.entities:
            if ent.about:
                continue
            node = settings.base_iri + ent.id
            if node not in out:
                out[node] = (unit.facts_rel, ent.line)
                out.update(property_lines(node, unit.facts_rel, ent.lines, model))
    return out


def fast_outcome(settings: Settings, *, jobs: int = 1) -> FastOutcome:
    """Validate the sources as :func:`toolkit.publish.release.release_outcome` does, fast."""
    model = load_model(settings.schema_dir)
    with stage("units"):
        units = collect_units(settings, jobs=jobs)
    for unit in units:
        if unit.fresh:
            for name, seconds in unit.timings.items():
                add("cpu:" + name, seconds)
        unit.timings = {}  # read: not held through the build
    with stage("link"):
        links = LinkIndex()
        problems = link([(uid, None, u) for uid, u in enumerate(units)], links, settings, units.__getitem__)
    report = ValidationReport()
    outcome = FastOutcome(report, model, units, clean=not problems)
    outcome.links = links
    # Every validator `build` runs, in its order; SHACL is the default engine, over the lines.
    # RELEASE_CHECKS run after the export, on the files being made (toolkit.publish.assemble).
    ctx = ValidationContext(settings=settings, model=model, corpus=None, load_results=problems, graph=None)
    for v in VALIDATORS:
        if v.name in RELEASE_CHECKS:
            continue
        if v.name == "shacl":
            if outcome.clean:
                _shacl(settings, outcome)
        elif isinstance(v, LoadResultsValidator):
            v.validate(ctx, report)
        elif outcome.clean:
            with stage("validation"):
                for unit in units:
                    run_unit_validator(v, unit, settings, model, report)
        report.validators_run.append(v.name)
    return outcome


def runs_per_unit(v: Validator | UnitValidator) -> bool:
    """Whether the build runs ``v`` per unit: every validator but the loader's (run inside the
    units), SHACL (the default engine, over every unit's lines at once) and the release checks (run on
    the files being written)."""
    return v.name not in RELEASE_CHECKS and v.name != "shacl" and not isinstance(v, LoadResultsValidator)


def check_tag(v: Validator | UnitValidator) -> str | None:
    """What names a per-source validator's results in a unit (:attr:`Unit.checks`): its class
    and settings. None for a validator defined outside the toolkit: the units' cache key holds
    the toolkit's code only, so such a validator's results are never cached; it runs in the
    main process on every build."""
    cls = type(v)
    if not cls.__module__.startswith("toolkit."):
        return None
    return f"{cls.__module__}.{cls.__qualname__}:{sorted(vars(v).items())!r}"


def unit_checks(unit: U.Unit, settings: Settings) -> dict[str, list[ValidationResult]]:
    """The per-source validators' results on one unit, by :func:`check_tag`: run in the worker
    that made the unit, beside its other per-source work, and cached with it.

    Why: run in the main process, one unit after the other, they were a serial stage of the
    build (the inference check parses each unit's lines: about 3 s of 2,000 sources) while the
    pool's other core stood idle."""
    model = unit_model(settings.schema_dir)
    out: dict[str, list[ValidationResult]] = {}
    for v in VALIDATORS:
        tag = check_tag(v)
        if tag is not None and runs_per_unit(v):
            report = ValidationReport()
            _run_unit_validator(v, unit, settings, model, report)
            out[tag] = list(report.results)
    return out


def run_unit_validator(
    v: Validator | UnitValidator, unit: U.Unit, settings: Settings, model: Model, report: ValidationReport
) -> None:
    """A validator's results on one unit: those its worker found (:func:`unit_checks`), or the
    validator run here on the unit's lines."""
    tag = check_tag(v)
    if tag is not None and unit.checks is not None and tag in unit.checks:
        report.extend(unit.checks[tag])
        return
    _run_unit_validator(v, unit, settings, model, report)


def unit_results(unit: U.Unit, settings: Settings, model: Model) -> list[ValidationResult]:
    """Every per-source validator's results on one unit (:func:`run_unit_validator`), in the
    order of :data:`~toolkit.validate.VALIDATORS`."""
    report = ValidationReport()
    for v in VALIDATORS:
        if runs_per_unit(v):
            run_unit_validator(v, unit, settings, model, report)
    return report.results


def _run_unit_validator(
    v: Validator | UnitValidator, unit: U.Unit, settings: Settings, model: Model, report: ValidationReport
) -> None:
    """Run a validator on one unit's lines; a validator the per-source build cannot run (one
    that reads only the whole graph) is refused by name, never run with nothing to read."""
    check = getattr(v, "validate_unit", None)
    if check is None:
        raise UsageError(
            f"validator {v.name!r} has no validate_unit(ctx, report): the build runs validators per "
            "source unit (see toolkit/validate/base.py, UnitValidator); give it one, or leave it out "
            "of toolkit.validate.VALIDATORS"
        )
    assert unit.source is not None
    lines = unit.lines if unit.lines is not None else unit.line_list()
    ctx = UnitContext(settings, model, unit.source.id, unit.facts_rel, lines)
    check(ctx, report)


def units_ntriples(units: list[U.Unit]) -> bytes:
    """Every unit's lines, one after the other, read from the cache one unit at a time into one
    growing buffer (``getvalue`` hands it over without a copy): the validation's input, held
    once (``b"".join`` would hold every unit's lines beside the joined copy)."""
    buf = io.BytesIO()
    for u in units:
        nt = u.nt
        if nt:
            buf.write(nt)
    return buf.getvalue()


def _shacl(settings: Settings, outcome: FastOutcome) -> None:
    model, units, report = outcome.model, outcome.units, outcome.report
    with stage("validation"):
        shapes = schema_graph(settings.schema_dir / "shapes.ttl")
        ontology = schema_graph(settings.schema_dir / "ontology.ttl")
        results, raw = validate_data(
            units_ntriples(units),
            shapes,
            ontology,
            data_namespaces=data_namespaces(model, settings),
            locate=locate_map(units, settings, model),
        )
    report.extend(results)
    report.raw_graphs["shacl"] = raw
    give_back_memory()


__all__ = [
    "LinkIndex",
    "build_unit",
    "cache_root",
    "collect_units",
    "fast_outcome",
    "link",
    "locate_map",
    "run_unit_validator",
    "runs_per_unit",
    "unit_checks",
    "unit_model",
    "unit_results",
    "units_ntriples",
]
