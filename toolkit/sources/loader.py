"""Read source folders into a :class:`Corpus`, collecting every problem with file and line.

A source folder holds the archived text, unchanged, and ``facts.yaml``. Unreadable input
raises :class:`~toolkit.errors.LoadError` (exit 2); readable but wrong facts become
validation results (exit 1) so that a person sees all of them at once.

Sources are regular files inside the sources folder: a source folder, a ``facts.yaml`` or an
archived text that is a symbolic link (or a FIFO, a device...) is refused with exit 2. There is
no opt-in: a link would let a facts file publish, or a report quote, any file the user can read.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from toolkit.config import Settings, where
from toolkit.errors import LoadError
from toolkit.report import ValidationResult
from toolkit.schema.model import Model
from toolkit.sources.dates import DateProblem, DateValue, Resolution, cn_number, parse_date, period_bound, resolve
from toolkit.sources.text import Normalised, closest_passage, find_span
from toolkit.yamlfile import YamlDoc, decode_utf8, load_yaml, read_capped

FACTS_FILE = "facts.yaml"
MAX_TEXT_BYTES = 8 * 1024 * 1024
#: how many "closest passage" hints one facts file's report shows, and how long each may be:
#: enough to find a typo, too little to copy a text out through the report
MAX_PASSAGE_HINTS = 5
#: how alike a misspelt key must be to a known one before "did you mean" names it: 'lable' ->
#: 'label' (0.8) is offered, 'location' -> 'organisation' (0.6) is not
KEY_CUTOFF = 0.75


@dataclass(frozen=True)
class RefValue:
    id: str


@dataclass(frozen=True)
class DateLit:
    value: DateValue
    stated: str | None = None
    note: dict[str, str] | None = None
    #: for stated words naming a period or a vague date: how they resolved (None for a point)
    period: Resolution | None = None

    @property
    def inferred(self) -> bool:
        return self.stated is not None


@dataclass(frozen=True)
class LangText:
    text: str
    lang: str


@dataclass(frozen=True)
class PlainLit:
    value: object
    kind: str


@dataclass(frozen=True)
class IriValue:
    """An IRI that is not an entity of the facts files (a concept of a model scheme)."""

    iri: str


Value = RefValue | DateLit | LangText | PlainLit | IriValue


@dataclass(frozen=True)
class Mark:
    """An inference mark on one value of an entry (``inferred:`` in a facts file): the value is
    published as usual, with a ``pt:Inference`` saying how it was inferred and why."""

    prop: str
    value: Value
    method: str  # the concept's IRI (a concept of the model's inferenceMethods scheme)
    note: tuple[LangText, ...]
    #: the value's position (from 1) among the property's values when it has several, else None
    n: int | None = None


@dataclass(frozen=True)
class EvidenceSpan:
    quote: str
    start: int
    end: int


@dataclass
class Entity:
    id: str
    types: tuple[str, ...]
    source_id: str
    file: Path
    line: int
    values: dict[str, list[Value]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    evidence: list[EvidenceSpan] = field(default_factory=list)
    #: an entry ``- subject: <id>``: this source's statements about an entity another source
    #: introduced (no types of its own; rendered in this source's graph)
    about: bool = False
    #: the name this entity's evidence and inferred dates are minted from; an entry about
    #: another source's entity gets its own (``<id>-by-<source>``) so the IRIs never clash
    key: str = ""
    #: single-valued properties stated about another source's entity, and values the entry
    #: attributes to the article (``attributed:``), kept as pt:Claim
    claims: list[Entity] = field(default_factory=list)
    #: inference marks on this entry's values (``inferred:``)
    marks: list[Mark] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.key:
            self.key = self.id

    def label(self, lang: str = "zh") -> str | None:
        for v in self.values.get("label", []):
            if isinstance(v, LangText) and v.lang == lang:
                return v.text
        return None


@dataclass
class Source:
    id: str
    folder: Path
    facts_path: Path
    text_path: Path
    text: str
    sha256: str
    body_start: int
    body_end: int
    published: DateValue
    article: Entity
    entities: list[Entity] = field(default_factory=list)


@dataclass
class Corpus:
    sources: list[Source]
    entities: dict[str, Entity]

    def entity_of(self, entity_id: str) -> Entity | None:
        return self.entities.get(entity_id)


def facts_schema(settings: Settings) -> dict[str, Any]:
    """The facts files' JSON Schema; public because the build reads it first, so that an unreadable
    schema gives the same LoadError on every path."""
    path = settings.schema_dir / "facts.schema.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"cannot read the facts schema: {exc}", file=path) from None


def source_folders(sources_dir: Path) -> list[Path]:
    """The source folders, sorted; a linked or odd source folder or facts file stops the load."""
    if not sources_dir.is_dir():
        raise LoadError("sources folder does not exist", file=sources_dir)
    folders = []
    for p in sorted(sources_dir.iterdir()):
        if p.is_dir() and os.path.lexists(p / FACTS_FILE):
            check_source_folder(p)
            folders.append(p)
    if not folders:
        raise LoadError(
            f"no source folders with a {FACTS_FILE} here",
            file=sources_dir,
            hint=f"add <source-id>/{FACTS_FILE} beside the archived text",
        )
    return folders


def check_source_folder(folder: Path) -> None:
    """Refuse a source folder that is a link, or whose facts file is a link or not a regular file.

    Why: a link takes the toolkit out of the sources folder, and whatever it reads there ends
    up in the release or is quoted in a report. Checked with ``lstat``, before anything is read.
    """
    if folder.is_symlink():
        raise LoadError(
            f"the source folder is a symbolic link (to {os.readlink(folder)}); sources must be "
            "real folders inside the sources folder",
            file=folder,
            hint="copy the folder into the sources folder instead of linking it",
        )
    facts = folder / FACTS_FILE
    check_regular(facts, f"{FACTS_FILE} file")


def check_regular(path: Path, what: str, *, line_of: tuple[Path, int | None] | None = None) -> None:
    """Refuse ``path`` unless it is a regular file itself (not a link, FIFO, device or folder).

    ``line_of`` names the facts file line that points at ``path`` (for the archived text).
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        raise LoadError(f"cannot read the {what}: {exc.strerror}", file=path) from None
    if stat.S_ISREG(mode):
        return
    if stat.S_ISLNK(mode):
        problem = f"the {what} {path.name} is a symbolic link (to {os.readlink(path)}); sources must be regular files"
        hint = "copy the file into the source folder instead of linking it"
    else:
        problem = f"the {what} {path.name} is not a regular file"
        hint = "replace it with a regular file"
    if line_of is not None:
        raise LoadError(problem, file=line_of[0], line=line_of[1], hint=hint)
    raise LoadError(problem, file=path, hint=hint)


class Problems:
    """The problems of one facts file, each with its line; public because the build's per-source
    unit (:mod:`toolkit.export.units`) collects them with the loader's own functions."""

    def __init__(self, settings: Settings, doc: YamlDoc) -> None:
        self.settings = settings
        self.doc = doc
        self.results: list[ValidationResult] = []
        self.passages_shown = 0  # "closest passage" hints given for this facts file

    def add(
        self,
        validator: str,
        message: str,
        path: tuple[str | int, ...],
        *,
        focus: str | None = None,
        label: str | None = None,
        prop: str | None = None,
        value: object = None,
    ) -> None:
        self.results.append(
            ValidationResult(
                validator=validator,
                message=message,
                focus_node=focus,
                focus_label=label,
                path=prop,
                value=None if value is None else str(value),
                source_file=where(self.doc.path, self.settings),
                line=self.doc.line_of(path),
            )
        )


def schema_errors(doc: YamlDoc, schema: dict[str, Any], problems: Problems) -> list[tuple[str | int, ...]]:
    """Add the format problems of a facts file; return the JSON path of each (for :func:`broken_entries`)."""
    validator = jsonschema.Draft202012Validator(schema)
    paths: list[tuple[str | int, ...]] = []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = tuple(err.absolute_path)
        paths.append(path)
        where = "/".join(str(p) for p in path) or "(top level)"
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = sorted(err.schema.get("properties", {}))
            for key in sorted(set(err.instance) - set(allowed)):
                cut = comma_cut(err.instance, key)
                if cut is not None:
                    problems.add("facts-schema", f"{where}: {cut}", (*path, key), value=key)
                    continue
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=KEY_CUTOFF)
                tip = f"; did you mean '{close[0]}'?" if close else f"; allowed keys: {', '.join(allowed)}"
                problems.add("facts-schema", f"unknown key '{key}' at {where}{tip}", (*path, key), value=key)
            continue
        desc = err.schema.get("description") if isinstance(err.schema, dict) else None
        if err.validator in ("anyOf", "oneOf", "pattern", "enum") and desc:
            msg = f"{where}: {err.instance!r} is not valid; expected {desc}"
        elif err.validator == "enum":
            msg = f"{where}: {err.instance!r} is not one of: {', '.join(map(str, err.validator_value))}"
        else:
            msg = f"{where}: {err.message}"
        problems.add("facts-schema", msg, path, value=None if isinstance(err.instance, (dict, list)) else err.instance)
    return paths


def broken_entries(doc: YamlDoc, paths: list[tuple[str | int, ...]]) -> dict[int, str] | None:
    """The entries of ``entities:`` that the format problems at ``paths`` are in (index -> id),
    or None when a problem lies outside them or in an entry's id (the file is then unusable).

    Why: the other entries are still loaded and checked (references, dates, evidence), so one
    run reports every problem it can find instead of one stage per run.
    """
    out: dict[int, str] = {}
    for path in paths:
        if (
            len(path) < 2
            or path[0] != "entities"
            or not isinstance(path[1], int)
            or path[2:3] in (("id",), ("subject",))
        ):
            return None
        raw = doc.data["entities"][path[1]]
        ident = raw.get("id", raw.get("subject")) if isinstance(raw, dict) else None
        if not isinstance(ident, str):
            # without its id, references to the entry would all be reported as unknown: a
            # cascade of wrong problems, so the file waits for its format to be fixed
            return None
        out[path[1]] = ident
    return out


def comma_cut(mapping: dict[str, Any], key: str) -> str | None:
    """What to say when ``key`` is the rest of a value cut at an ASCII comma, else None.

    ``label: {zh: 上海, en: Shanghai, Pudong}`` is read by YAML as three keys, the last with no
    value: "unknown key 'Pudong'" would send the user looking for a key that was never meant.
    """
    keys = list(mapping)
    at = keys.index(key)
    if mapping[key] is not None or at == 0 or not isinstance(mapping[keys[at - 1]], str):
        return None
    before = keys[at - 1]
    joined = f"{mapping[before]}, {' '.join(str(k) for k in keys[at:] if mapping[k] is None)}"
    return (
        f"the value of '{before}' holds an ASCII comma, so YAML read the text after it ('{key}') as a "
        f'new key; quote the value: {before}: "{joined}" (or use the Chinese comma ，)'
    )


def body_bounds(text: str, start_words: str, end_words: str) -> tuple[int, int] | None:
    """Raw (start, end) of the body that ``body.start`` / ``body.end`` mark, as the loader finds it.

    Public so that `source add` chooses body words the loader will find, and `draft` quotes
    the same body that `validate` checks; None when either is missing or end comes first.
    """
    normal = Normalised.of(text)
    start = find_span(start_words, normal)
    end = find_span(end_words, normal)
    if start is None or end is None or end[1] <= start[0]:
        return None
    return start[0], end[1]


def locate_quote(quote: str, text: str, body: Normalised) -> EvidenceSpan | None:
    """Where an evidence quote lies in the body, exactly as `validate` proves it (or None).

    ``body`` is ``Normalised.of(text, body_start, body_end)``; `draft` calls this for every
    quote it proposes, so a proposal is never one `validate` would reject.
    """
    span = find_span(quote, body)
    if span is None:
        return None
    return EvidenceSpan(quote=text[span[0] : span[1]], start=span[0], end=span[1])


def _read_text(path: Path) -> str:
    return decode_utf8(read_capped(path, MAX_TEXT_BYTES, what="archived text", follow_links=False), path)


def load_corpus(settings: Settings, model: Model) -> tuple[Corpus, list[ValidationResult]]:
    """Load every source; return the corpus and the problems found (empty when all is well)."""
    schema = facts_schema(settings)
    results: list[ValidationResult] = []
    sources: list[Source] = []
    entities: dict[str, Entity] = {}
    pending_refs: list[tuple[Problems, Entity, str, RefValue, tuple[str | int, ...]]] = []
    subjects: list[tuple[Problems, Entity, dict[str, Any], int]] = []
    ghosts: set[str] = set()  # ids of entries with a format problem: not loaded, but not "unknown" either
    source_ids: dict[str, Path] = {}
    for folder in source_folders(settings.sources_dir):
        doc = load_yaml(folder / FACTS_FILE, fast=True)
        problems = Problems(settings, doc)
        broken = broken_entries(doc, schema_errors(doc, schema, problems))
        if broken is None:
            results.extend(problems.results)
            continue
        ghosts.update(broken.values())
        src = load_source(folder, doc, problems, model, settings)
        if src is None:
            results.extend(problems.results)
            continue
        if src.id in source_ids:
            problems.add("facts", f"source id '{src.id}' is also used by {source_ids[src.id]}", ("source", "id"))
        source_ids[src.id] = folder
        body = Normalised.of(src.text, src.body_start, src.body_end)
        pending_refs.extend(
            (problems, src.article, p, v, ("source", p))
            for p, vs in src.article.values.items()
            for v in vs
            if isinstance(v, RefValue)
        )
        for i, raw in enumerate(doc.data["entities"]):
            if i in broken:
                continue
            ent = load_entity(raw, i, src, doc, problems, model, settings)
            if ent.about:
                src.entities.append(ent)
                src.entities.extend(ent.claims)
                locate_evidence(raw, i, ent, src, body, problems, settings)
                for claim in ent.claims:
                    claim.evidence = list(ent.evidence)
                subjects.append((problems, ent, raw, i))
                pending_refs.extend((problems, ent, prop, ref, path) for prop, ref, path in ref_paths(raw, i, ent))
                continue
            if ent.id in entities:
                other = entities[ent.id]
                problems.add(
                    "facts",
                    duplicate_message(ent.id, where(doc.path, settings), f"{where(other.file, settings)}:{other.line}"),
                    ("entities", i, "id"),
                    focus=settings.base_iri + ent.id,
                    value=ent.id,
                )
                continue
            entities[ent.id] = ent
            src.entities.append(ent)
            src.entities.extend(ent.claims)
            locate_evidence(raw, i, ent, src, body, problems, settings)
            pending_refs.extend((problems, ent, prop, ref, path) for prop, ref, path in ref_paths(raw, i, ent))
        sources.append(src)
        results.extend(problems.results)
    # References resolve only once every source is read: they may point into another source.
    for problems, ent, prop, ref, path in pending_refs:
        if ref.id not in entities and ref.id not in ghosts:
            close = difflib.get_close_matches(ref.id, list(entities), n=1)
            tip = f"; did you mean '{close[0]}'?" if close else "; define an entity with this id"
            problems.add(
                "facts",
                f"unknown reference '{ref.id}' in {prop}{tip}",
                path,
                focus=settings.base_iri + ent.id,
                label=ent.label(),
                prop=prop,
                value=ref.id,
            )
            results.append(problems.results.pop())
    known = known_of(entities) if subjects else {}
    for problems, ent, raw, i in subjects:
        target = known.get(ent.id)
        if target is None and ent.id in ghosts:
            continue
        for message, key in subject_problems(ent.id, ent.source_id, list(raw), known, model):
            problems.add(
                "facts",
                message,
                ("entities", i, key),
                focus=settings.base_iri + ent.id,
                label=target.label if target else None,
                prop=None if key == "subject" else key,
                value=ent.id if key == "subject" else None,
            )
            results.append(problems.results.pop())
    results.extend(reference_cycles(entities, settings))
    return Corpus(sources=sources, entities=entities), results


def duplicate_message(entity_id: str, adding: str, defined_at: str) -> str:
    """The duplicate-id message: it names the file being added first, since that is the one to edit."""
    return (
        f"duplicate id '{entity_id}' in {adding}: already defined at {defined_at}; to add facts to that "
        f"entity from this source, write the entry as '- subject: {entity_id}' (no id or type) with "
        "its properties and evidence"
    )


@dataclass(frozen=True)
class Known:
    """What the subject check needs of an entity that some source defines."""

    types: tuple[str, ...]
    source_id: str
    line: int
    label: str | None


def subject_problems(
    subject: str, source_id: str, keys: list[str], known: dict[str, Known], model: Model
) -> list[tuple[str, str]]:
    """Problems of an entry ``- subject: <id>``: (message, the key whose line to show).

    The subject must be an entity another source defines, and each property must apply to its
    class. Shared by the loader and the fast build's check across sources.
    """
    target = known.get(subject)
    if target is None:
        close = difflib.get_close_matches(subject, list(known), n=1)
        tip = f"; did you mean '{close[0]}'?" if close else "; the entity must be defined (with id:) by some source"
        return [(f"subject '{subject}' names no entity{tip}", "subject")]
    if target.source_id == source_id:
        return [
            (
                f"subject '{subject}' is defined in this same file (line {target.line}); add the properties there",
                "subject",
            )
        ]
    allowed = model.constraints_for(target.types)
    out = []
    for key in keys:
        if key in ("subject", "evidence", "inferred") or key in allowed:
            continue
        owners = sorted(c for c, d in model.classes.items() if key in d.constraints and not d.abstract)
        out.append(
            (
                f"'{key}' does not apply to {'/'.join(target.types)} '{subject}'; it applies to: "
                f"{', '.join(owners) or 'no class'}",
                key,
            )
        )
    return out


def known_of(entities: dict[str, Entity]) -> dict[str, Known]:
    return {eid: Known(e.types, e.source_id, e.line, e.label()) for eid, e in entities.items()}


def ref_paths(raw: dict[str, Any], index: int, ent: Entity) -> Iterator[tuple[str, RefValue, tuple[str | int, ...]]]:
    """Each reference of an entity with the facts-file path that wrote it (for its line)."""
    for prop, vals in ent.values.items():
        for j, v in enumerate(vals):
            if isinstance(v, RefValue):
                path: tuple[str | int, ...] = ("entities", index, prop)
                if isinstance(raw.get(prop), list):
                    path = (*path, j)
                yield prop, v, path


def reference_cycles(entities: dict[str, Entity], settings: Settings) -> list[ValidationResult]:
    """A resource that reaches itself through one property (A part of B part of A) is a mistake."""
    out: list[ValidationResult] = []
    # one pass over the entities for every property (not one per property): only an entity
    # with a link of the property can be on a cycle through it
    by_prop: dict[str, dict[str, list[str]]] = {}
    for e in entities.values():
        for p, vs in e.values.items():
            refs = [v.id for v in vs if isinstance(v, RefValue)]
            if refs:
                by_prop.setdefault(p, {})[e.id] = [r for r in refs if r in entities]
    for prop in sorted(by_prop):
        edges = by_prop[prop]
        reported: set[str] = set()
        # Only a node on a cycle can reach itself, and only through its own strongly connected
        # component: searching there alone finds the same first cycle in linear, not quadratic, time.
        component = _cyclic_components(edges)
        for start in sorted(edges):
            if start not in component or start in reported:
                continue
            mine = component[start]
            stack = [(start, [start])]
            seen: set[str] = set()
            while stack:
                node, trail = stack.pop()
                for nxt in edges.get(node, []):
                    if component.get(nxt) != mine:
                        continue
                    if nxt == start:
                        if start not in reported:
                            cyc = " -> ".join([*trail, start])
                            reported.update(trail)
                            ent = entities[start]
                            out.append(
                                ValidationResult(
                                    validator="facts",
                                    message=f"cyclic reference through {prop}: {cyc}",
                                    focus_node=settings.base_iri + start,
                                    focus_label=ent.label(),
                                    path=prop,
                                    source_file=where(ent.file, settings),
                                    line=ent.lines.get(prop, ent.line),
                                )
                            )
                    elif nxt not in seen:
                        seen.add(nxt)
                        stack.append((nxt, [*trail, nxt]))
    return out


def _cyclic_components(edges: dict[str, list[str]]) -> dict[str, int]:
    """Node -> component number, for the nodes that lie on a cycle (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: dict[str, int] = {}
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1 or node in edges.get(node, []):
                    for member in members:
                        out[member] = index[node]
    return out


def load_source(folder: Path, doc: YamlDoc, problems: Problems, model: Model, settings: Settings) -> Source | None:
    """The ``source:`` block of a facts file and its archived text (None when unusable); shared
    with the per-source unit so that both paths read a source the same way."""
    meta = doc.data["source"]
    text_path = folder / meta["text"]
    if text_path.is_symlink() or (os.path.lexists(text_path) and not text_path.is_file()):
        check_regular(text_path, "archived text", line_of=(doc.path, doc.line_of(("source", "text"))))
    if not text_path.is_file():
        # name the line of facts.yaml to fix, not only the file that is not there
        raise LoadError(
            f"the archived text {meta['text']!r} is not a file in {folder.name}/",
            file=doc.path,
            line=doc.line_of(("source", "text")),
            hint=f"give the file name of the archived text stored beside {FACTS_FILE}",
        )
    text = _read_text(text_path)
    normal = Normalised.of(text)
    start = find_span(meta["body"]["start"], normal)
    end = find_span(meta["body"]["end"], normal)
    if start is None:
        problems.add(
            "facts", f"body start {meta['body']['start']!r} not found in {meta['text']}", ("source", "body", "start")
        )
    if end is None:
        problems.add(
            "facts", f"body end {meta['body']['end']!r} not found in {meta['text']}", ("source", "body", "end")
        )
    if start is None or end is None:
        return None
    if end[1] <= start[0]:
        problems.add("facts", "body end comes before body start", ("source", "body", "end"))
        return None
    try:
        published = parse_date(meta["datePublished"]) if not isinstance(meta["datePublished"], dict) else None
    except DateProblem as exc:
        problems.add("facts", f"datePublished: {exc}", ("source", "datePublished"))
        return None
    if published is None:
        problems.add(
            "facts", "datePublished must be an absolute date (YYYY-MM-DD, YYYY-MM or YYYY)", ("source", "datePublished")
        )
        return None
    article = Entity(
        id=meta["id"], types=("SourceArticle",), source_id=meta["id"], file=doc.path, line=doc.line_of(("source",)) or 1
    )
    for key, raw in meta.items():
        if key in ("id", "text", "body", "inferred"):
            continue
        _set_values(article, key, raw, ("source", key), published, doc, problems, model, settings, _label_of(meta))
    load_marks(meta, ("source",), article, problems, model, settings)
    return Source(
        id=meta["id"],
        folder=folder,
        facts_path=doc.path,
        text_path=text_path,
        text=text,
        sha256=hashlib.sha256(text_path.read_bytes()).hexdigest(),
        body_start=start[0],
        body_end=end[1],
        published=published,
        article=article,
    )


def load_entity(
    raw: dict[str, Any], index: int, src: Source, doc: YamlDoc, problems: Problems, model: Model, settings: Settings
) -> Entity:
    """One entry of ``entities:`` (an entity or a ``subject:`` block); shared with the per-source unit."""
    if "subject" in raw:
        return _load_subject(raw, index, src, doc, problems, model, settings)
    types = tuple(raw["type"]) if isinstance(raw["type"], list) else (raw["type"],)
    ent = Entity(
        id=raw["id"],
        types=types,
        source_id=src.id,
        file=doc.path,
        line=doc.line_of(("entities", index)) or 1,
    )
    allowed = model.constraints_for(types)
    label = _label_of(raw)
    for key, value in raw.items():
        if key in ("id", "type", "evidence", "inferred", "attributed"):
            continue
        path = ("entities", index, key)
        if key not in allowed:
            owners = sorted(c for c, d in model.classes.items() if key in d.constraints and not d.abstract)
            problems.add(
                "facts",
                f"'{key}' does not apply to {'/'.join(types)}; it applies to: {', '.join(owners) or 'no class'}",
                path,
                focus=settings.base_iri + ent.id,
                label=label,
                prop=key,
            )
            continue
        _set_values(ent, key, value, path, src.published, doc, problems, model, settings, label)
    _attribute(raw, index, ent, src, problems, model, settings)
    load_marks(raw, ("entities", index), ent, problems, model, settings)
    return ent


def _load_subject(
    raw: dict[str, Any], index: int, src: Source, doc: YamlDoc, problems: Problems, model: Model, settings: Settings
) -> Entity:
    """An entry ``- subject: <id>``: this source's own statements about another source's entity.

    Multi-valued properties become plain triples on that entity, in this source's graph. A
    single-valued one (``max: 1`` on every class that has it) becomes a :class:`Claim`, so that
    two sources giving different values are both kept, each with its evidence, without one
    overriding the other; which one it is depends on the model alone, never on other sources,
    so a source still renders on its own. Whether the properties apply to the entity's class is
    checked once every source is read (:func:`check_subject`).
    """
    subject = raw["subject"]
    ent = Entity(
        id=subject,
        types=(),
        source_id=src.id,
        file=doc.path,
        line=doc.line_of(("entities", index)) or 1,
        about=True,
        key=f"{subject}-by-{src.id}",
    )
    for key, value in raw.items():
        if key in ("subject", "evidence") or key not in model.properties or model.properties[key].generated:
            continue
        _set_values(ent, key, value, ("entities", index, key), src.published, doc, problems, model, settings)
    load_marks(raw, ("entities", index), ent, problems, model, settings)
    for key in sorted(ent.values):
        if key == "label" or not single_valued_property(model, key):
            continue
        claim = new_claim(src, subject, key, ent.values.pop(key), model, doc.path, ent.lines.get(key, ent.line))
        # a mark on the value goes with it: the claim says how it was inferred
        marks = [m for m in ent.marks if m.prop == key]
        if marks:
            ent.marks = [m for m in ent.marks if m.prop != key]
            claim.values["inferenceMethod"] = [IriValue(marks[0].method)]
            claim.values["comment"] = list(marks[0].note)
        claim.lines = {k: ent.lines[key] for k in claim.values}
        ent.claims.append(claim)
    return ent


def _matches(value: Value, wanted: object) -> bool:
    """Whether a facts file's ``value:`` of a mark names this value of the property."""
    if isinstance(value, RefValue):
        return value.id == str(wanted)
    if isinstance(value, LangText):
        return value.text == str(wanted)
    if isinstance(value, DateLit):
        return value.value.lexical == str(wanted) or value.stated == str(wanted)
    if isinstance(value, PlainLit):
        return value.value == wanted or str(value.value) == str(wanted)
    return False


def _described(value: Value) -> str:
    if isinstance(value, RefValue):
        return value.id
    if isinstance(value, LangText):
        return value.text
    if isinstance(value, DateLit):
        return value.value.lexical
    if isinstance(value, PlainLit):
        return str(value.value)
    return value.iri


def load_marks(
    raw: dict[str, Any],
    at: tuple[str | int, ...],
    ent: Entity,
    problems: Problems,
    model: Model,
    settings: Settings,
) -> None:
    """Read an entry's ``inferred:`` map into :class:`Mark` s on ``ent`` (its values already set).

    Why a map beside the values rather than a new form of each value: any property of any
    entry can be marked (a reference, a date, a text, a number) without changing how values
    are written, and removing the mark leaves the value as it was."""
    marks = raw.get("inferred")
    if not isinstance(marks, dict):
        return
    scheme = model.schemes["inferenceMethods"]
    focus = settings.base_iri + ent.id
    for prop, spec in marks.items():
        path = (*at, "inferred", prop)
        values = ent.values.get(prop)
        if not values:
            problems.add(
                "facts",
                f"inferred: '{prop}' has no value in this entry; mark a property the entry states",
                path,
                focus=focus,
                label=ent.label(),
                prop=prop,
            )
            continue
        for mark in spec if isinstance(spec, list) else [spec]:
            chosen = list(enumerate(values, start=1))
            if "value" in mark:
                chosen = [(n, v) for n, v in chosen if _matches(v, mark["value"])]
                if not chosen:
                    problems.add(
                        "facts",
                        f"inferred: {prop} has no value {mark['value']!r}; its values: "
                        + ", ".join(_described(v) for v in values),
                        path,
                        focus=focus,
                        label=ent.label(),
                        prop=prop,
                        value=mark["value"],
                    )
                    continue
            note = tuple(LangText(text, lang) for lang, text in sorted(mark["note"].items()))
            for n, v in chosen:
                ent.marks.append(
                    Mark(
                        prop=prop,
                        value=v,
                        method=scheme.concept_iri(model.ns, mark["method"]),
                        note=note,
                        n=n if len(values) > 1 else None,
                    )
                )


def new_claim(
    src: Source, subject: str, prop: str, values: list[Value], model: Model, file: Path, line: int, suffix: str = ""
) -> Entity:
    """A ``pt:Claim`` that ``src`` makes: ``subject``'s ``prop`` has ``values``. Used for a value
    stated about another source's entity (``subject:``) and for one the article only claims
    (``attributed:``), so both mint the same IRIs and keys."""
    claim = Entity(
        id=f"claim/{src.id}/{subject}/{prop}{suffix}",
        types=("Claim",),
        source_id=src.id,
        file=file,
        line=line,
        key=f"claim-{src.id}-{subject}-{prop}{suffix}",
    )
    claim.values = {
        "claimSubject": [RefValue(subject)],
        "claimProperty": [PlainLit(model.properties[prop].iri, "string")],
        "claimValue": values,
    }
    return claim


def _attribute(
    raw: dict[str, Any], index: int, ent: Entity, src: Source, problems: Problems, model: Model, settings: Settings
) -> None:
    """The entry's ``attributed:`` properties: their values become the article's claims
    (``pt:Claim`` with method attributed-claim and the note), not facts of the entity.

    Why: a value an outside reader could dispute (a date the article gives that other
    sources contradict) is kept with its evidence but not asserted as true."""
    attributed = raw.get("attributed")
    if not isinstance(attributed, dict):
        return
    method = model.schemes["inferenceMethods"].concept_iri(model.ns, "attributed-claim")
    for prop, spec in attributed.items():
        values = ent.values.pop(prop, None)
        if not values:
            problems.add(
                "facts",
                f"attributed: '{prop}' has no value in this entry; give the value the article claims",
                ("entities", index, "attributed", prop),
                focus=settings.base_iri + ent.id,
                label=ent.label(),
                prop=prop,
            )
            continue
        for n, v in enumerate(values, start=1):
            suffix = f"-{n}" if len(values) > 1 else ""
            claim = new_claim(src, ent.id, prop, [v], model, ent.file, ent.lines.get(prop, ent.line), suffix)
            claim.values["inferenceMethod"] = [IriValue(method)]
            claim.values["comment"] = [LangText(text, lang) for lang, text in sorted(spec["note"].items())]
            claim.lines = {k: claim.line for k in claim.values}
            claim.evidence = ent.evidence  # the entry's quotes, found after this (the same list)
            ent.claims.append(claim)


def single_valued_property(model: Model, prop: str) -> bool:
    """True when every class that has ``prop`` allows it once (the model's own single-valuedness)."""
    cons = [c.constraints[prop] for c in model.classes.values() if prop in c.constraints]
    return bool(cons) and all(c.max == 1 for c in cons)


def _set_values(
    ent: Entity,
    key: str,
    raw: Any,
    path: tuple[str | int, ...],
    published: DateValue,
    doc: YamlDoc,
    problems: Problems,
    model: Model,
    settings: Settings,
    label: str | None = None,
) -> None:
    prop = model.properties[key]
    ent.lines[key] = doc.line_of(path) or ent.line
    vals: list[Value] = []
    if prop.kind == "ref":
        for item in raw if isinstance(raw, list) else [raw]:
            vals.append(RefValue(item))
    elif prop.kind == "langmap":
        vals.extend(LangText(text, lang) for lang, text in sorted(raw.items()))
    elif prop.kind == "zh":
        vals.append(LangText(raw, "zh"))
    elif prop.kind == "date":
        lit = _date(raw, key, path, published, problems, settings.base_iri + ent.id, label, closes=prop.closes_period)
        if lit is None:
            return
        vals.append(lit)
    elif prop.kind == "decimal" and isinstance(raw, dict):
        try:
            vals.append(PlainLit(cn_number(raw["stated"]), "decimal"))
        except DateProblem as exc:
            problems.add("facts", f"{key}: {exc}", path, focus=settings.base_iri + ent.id, label=label, prop=key)
            return
    else:
        vals.append(PlainLit(raw, prop.kind))
    ent.values[key] = vals


def _label_of(raw: dict[str, Any]) -> str | None:
    """The zh label written in a facts map (it may come after the key being checked)."""
    label = raw.get("label")
    zh = label.get("zh") if isinstance(label, dict) else None
    return zh if isinstance(zh, str) else None


def _date(
    raw: Any,
    key: str,
    path: tuple[str | int, ...],
    published: DateValue,
    problems: Problems,
    focus: str,
    label: str | None = None,
    *,
    closes: bool = False,
) -> DateLit | None:
    try:
        if not isinstance(raw, dict):
            return DateLit(parse_date(raw))
        stated = raw["stated"]
        since = parse_date(raw["since"]) if "since" in raw else None
        period = resolve(stated, published, since=since)
        resolved = period_bound(period, end=closes) if period is not None else None
        given = parse_date(raw["value"]) if "value" in raw else None
    except DateProblem as exc:
        problems.add("facts", f"{key}: {exc}", path, focus=focus, label=label, prop=key, value=raw)
        return None
    if given is not None and resolved is not None and given != resolved:
        problems.add(
            "facts",
            f"{key}: {stated!r} resolves to {resolved.lexical} against the publication date "
            f"{published.lexical}, but value says {given.lexical}",
            path,
            focus=focus,
            label=label,
            prop=key,
            value=given.lexical,
        )
        return None
    value = given or resolved
    if value is None:
        need = " and since: (the stated start)" if "周年" in stated and since is None else ""
        problems.add(
            "facts",
            f"{key}: cannot resolve the relative date {stated!r}; add value: YYYY-MM-DD (and note:){need}",
            path,
            focus=focus,
            label=label,
            prop=key,
            value=stated,
        )
        return None
    keep = period if period is not None and not period.is_point and given is None else None
    return DateLit(value, stated=stated, note=raw.get("note"), period=keep)


def locate_evidence(
    raw: dict[str, Any], index: int, ent: Entity, src: Source, body: Normalised, problems: Problems, settings: Settings
) -> None:
    """Find each quote of an entry in the archived text (a quote not found is a problem); shared
    with the per-source unit."""
    for j, quote in enumerate(raw["evidence"]):
        found = locate_quote(quote, src.text, body)
        if found is None:
            if problems.passages_shown < MAX_PASSAGE_HINTS:
                problems.passages_shown += 1
                hint = f"closest passage: {closest_passage(quote, body)!r}"
            else:
                hint = f"closest passages are shown for the first {MAX_PASSAGE_HINTS} quotes only"
            problems.add(
                "evidence",
                f"quote not found in the body of {src.text_path.name}; {hint}",
                ("entities", index, "evidence", j),
                focus=settings.base_iri + ent.id,
                label=ent.label(),
                prop="evidence",
                value=quote,
            )
            continue
        ent.evidence.append(found)
