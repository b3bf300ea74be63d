"""`draft ID`: write facts.draft.yaml beside facts.yaml from the source's text and the corpus.

The draft is a facts file: the source block of facts.yaml copied as written, then one entity
per proposal with a comment line giving its confidence and why. What the model has no slot
for yet (a date not tied to a fact, a quantity, a link to a corpus entity, a choice among
candidates) is written as comments under the entities, with its quote, so a person can
move it into a fact. Every quote is proved by the loader's own quote locator before it is
written; facts.yaml is never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.config import Settings
from toolkit.draft.propose import Drafter, Known, Proposal
from toolkit.errors import LoadError, UsageError
from toolkit.schema.model import load_model
from toolkit.sources.dates import DateProblem, DateValue, parse_date
from toolkit.sources.loader import FACTS_FILE, Entity, body_bounds, check_source_folder, load_corpus, locate_quote
from toolkit.sources.text import Normalised, normalise
from toolkit.yamlfile import YamlDoc, decode_utf8, load_yaml, read_capped

DRAFT_FILE = "facts.draft.yaml"
#: the kinds counted by a draft's summary line, in this order
KINDS = (
    "date",
    "quantity",
    "statement",
    "known",
    "candidate",
    "person",
    "organisation",
    "place",
    "document",
    "event",
    "affiliation",
)


@dataclass(frozen=True)
class DraftResult:
    path: Path
    counts: dict[str, int]
    dropped_quotes: int


def _yq(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    text = str(v)
    if re.fullmatch(r"-?\d{4}(-\d{2}(-\d{2})?)?", text):
        return f'"{text}"'
    if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", text) and text not in (
        "true",
        "false",
        "null",
        "yes",
        "no",
        "on",
        "off",
    ):
        return text
    return _yq(text)


def _entity_yaml(p: Proposal) -> list[str]:
    out = [f"  # [{p.confidence:.2f} {p.kind}] {p.why}"]
    out.append(f"  - id: {p.id}")
    out.append(f"    type: {p.types[0] if len(p.types) == 1 else _value(list(p.types))}")
    out.append(f"    label: {{zh: {_yq(p.label_zh)}, en: {_yq(p.label_en)}}}")
    for key, v in p.props.items():
        out.append(f"    {key}: {_value(v)}")
    out.append("    evidence:")
    out.extend(f"      - {_yq(q)}" for q in dict.fromkeys(p.quotes))
    return out


def _comment_yaml(p: Proposal) -> list[str]:
    return [
        f"  # [{p.confidence:.2f} {p.kind}] {p.note}",
        f"  #     why: {p.why}",
        f"  #     quote: {_yq(p.quotes[0])}",
    ]


def _source_block(facts_text: str, facts_path: Path) -> str:
    """facts.yaml's text from the start up to ``entities:``, comments and all."""
    m = re.search(r"^entities:", facts_text, re.MULTILINE)
    if m is None:
        raise LoadError(
            f"{FACTS_FILE} has no entities: key", file=facts_path, hint="write `entities: []` after source:"
        )
    return facts_text[: m.start()].rstrip() + "\n"


@dataclass(frozen=True)
class Existing:
    """What facts.yaml already holds, for --missing."""

    defined: frozenset[str]  # entity ids
    referenced: frozenset[str]  # ids its properties point at (links to corpus entities)
    labels: frozenset[str]  # zh labels
    quotes: tuple[str, ...]  # evidence quotes, whitespace-normalised
    texts: frozenset[str]  # statement texts

    @classmethod
    def of(cls, entities: Any) -> Existing:
        defined, referenced, labels, quotes, texts = set(), set(), set(), [], set()
        for ent in entities if isinstance(entities, list) else []:
            if not isinstance(ent, dict):
                continue
            defined.add(str(ent.get("id")))
            label = ent.get("label")
            if isinstance(label, dict) and isinstance(label.get("zh"), str):
                labels.add(label["zh"])
            if isinstance(ent.get("text"), str):
                texts.add(normalise(ent["text"]))
            quotes.extend(normalise(q) for q in ent.get("evidence") or [] if isinstance(q, str))
            for key, v in ent.items():
                if key not in ("id", "evidence", "text"):
                    for x in v if isinstance(v, list) else [v]:
                        if isinstance(x, str) and _SLUG.fullmatch(x):
                            referenced.add(x)
        return cls(frozenset(defined), frozenset(referenced), frozenset(labels), tuple(quotes), frozenset(texts))

    def has(self, p: Proposal) -> bool:
        """Is this proposal's fact already there (same entity, label, text, or its words quoted)?"""
        if p.kind == "known":
            return p.id in self.referenced or p.id in self.defined
        if p.commented:
            return bool(p.stated) and any(p.stated in q and normalise(p.quotes[0])[:8] in q for q in self.quotes)
        if p.kind == "statement":
            return normalise(str(p.props.get("text", ""))) in self.texts or p.label_zh in self.labels
        return p.id in self.defined or p.label_zh in self.labels


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass
class Proposed:
    """A source's proposals, each quote proved, with what the draft and the score need besides."""

    proposals: list[Proposal]
    dropped_quotes: int
    doc: YamlDoc
    facts_path: Path
    publisher: str
    published: DateValue
    other_ids: frozenset[str]  # the corpus: entities of the other sources
    own: dict[str, Entity]  # this source's entities as the loader read them (dates resolved)


def propose_for(settings: Settings, source_id: str) -> Proposed:
    """The proposals for a source, from its text and the corpus of the other sources."""
    folder = settings.sources_dir / source_id
    if not (folder / FACTS_FILE).exists():
        raise UsageError(
            f"no source {source_id!r} in {settings.sources_dir}",
            hint=f"run `policy-toolkit source add PAGE --id {source_id}` first",
        )
    check_source_folder(folder)
    facts_path = folder / FACTS_FILE
    doc = load_yaml(facts_path)
    meta = doc.data.get("source") if isinstance(doc.data, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("text"), str):
        raise LoadError("facts.yaml has no source: block with text:", file=facts_path)
    try:
        published = parse_date(meta.get("datePublished"))
    except DateProblem as exc:
        raise UsageError(
            f"datePublished: {exc}",
            file=facts_path,
            line=doc.line_of(("source", "datePublished")),
            hint="write the publication date first: relative dates are resolved against it",
        ) from None
    text_path = folder / meta["text"]
    text = decode_utf8(read_capped(text_path, 8 * 1024 * 1024, what="archived text", follow_links=False), text_path)
    body_meta = meta.get("body") or {}
    bounds = body_bounds(text, str(body_meta.get("start", "")), str(body_meta.get("end", "")))
    if bounds is None:
        raise LoadError(
            "body start or end not found in the archived text",
            file=facts_path,
            line=doc.line_of(("source", "body")),
            hint="fix body.start / body.end",
        )
    body = Normalised.of(text, *bounds)
    model = load_model(settings.schema_dir)
    corpus, _problems = load_corpus(settings, model)
    others = [e for e in corpus.entities.values() if e.source_id != source_id]
    publisher = str(meta.get("publisher", ""))
    # Quantities become entities once the model has the Quantity class of issue 13 (amount, unit,
    # qualifier, counts, asOf); until then they are commented proposals.
    quantity = model.classes.get("Quantity")
    as_entities = quantity is not None and "amount" in quantity.constraints
    drafter = Drafter(
        body.text,
        published,
        Known.of(others),
        publisher,
        {e.id for e in others},
        quantity_entities=as_entities,
        event_location="location" in (model.classes["Meeting"].constraints if "Meeting" in model.classes else {}),
    )
    proposals = drafter.run()
    proved: list[Proposal] = []
    dropped = 0
    for p in proposals:
        good = [q for q in p.quotes if len(q) >= 2 and locate_quote(q, text, body) is not None]
        dropped += len(p.quotes) - len(good)
        if good:
            p.quotes = good
            proved.append(p)
    own = {e.id: e for e in corpus.entities.values() if e.source_id == source_id}
    return Proposed(proved, dropped, doc, facts_path, publisher, published, frozenset(e.id for e in others), own)


def draft_source(settings: Settings, source_id: str, *, missing: bool = False) -> DraftResult:
    """Write ``<source>/facts.draft.yaml``; with ``missing``, only what facts.yaml lacks."""
    got = propose_for(settings, source_id)
    proved, doc, facts_path, publisher = got.proposals, got.doc, got.facts_path, got.publisher
    if missing:
        existing = Existing.of(doc.data.get("entities") or [])
        proved = [p for p in proved if not existing.has(p)]
    out = _render(
        _source_block(facts_path.read_text(encoding="utf-8"), facts_path),
        proved,
        source_id,
        missing,
        publisher,
        doc.data.get("entities") or [],
    )
    path = facts_path.parent / DRAFT_FILE
    path.write_text(out, encoding="utf-8")
    counts = {k: sum(p.kind == k for p in proved) for k in KINDS}
    return DraftResult(path, counts, got.dropped_quotes)


def _render(
    head: str, proposals: list[Proposal], source_id: str, missing: bool, publisher: str, existing: list[Any]
) -> str:
    entities = [p for p in proposals if not p.commented]
    notes = [p for p in proposals if p.commented]
    lines = [
        f"# DRAFT by `policy-toolkit draft {source_id}{' --missing' if missing else ''}`: proposals, not facts.",
        "# Each entry has a comment: [confidence kind] and why it was proposed. Delete what is wrong, fill the",
        "# TODO English labels, move the commented proposals at the end into facts, then rename this file",
        "# to facts.yaml (or merge it by hand) and run `policy-toolkit validate`.",
        "# Every quote below was found in the body by the same locator `validate` uses.",
    ]
    body = [head.rstrip(), "", "entities:"]
    defined = {p.id for p in entities}
    if (
        publisher
        and publisher not in defined
        and not missing
        and not any(isinstance(e, dict) and e.get("id") == publisher for e in existing)
    ):
        body.append(f"  # TODO: the source block names publisher {publisher}; define it (or use a corpus id)")
    for p in entities:
        body.extend(_entity_yaml(p))
    if not entities:
        body.append("  []")
    if notes:
        body.append("")
        body.append("# ---- proposals the facts format has no place for yet: attach them to a fact, or drop them")
        for p in notes:
            body.extend(_comment_yaml(p))
    return "\n".join(lines) + "\n" + "\n".join(body) + "\n"
