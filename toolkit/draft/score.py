"""`draft ID --score`: how much of a hand-written facts file the draft finds, and how much of the draft is right.

Why: "saves hours" is a claim; this measures it. The source is drafted as if it were new (the
corpus is the other sources) and its proposals are compared with its facts.yaml, kind by kind:

- dates: every date a fact states (startDate, entryIntoForce, forYear ...), resolved; found when
  a date proposal has the same value and its words are in one of that fact's quotes;
- quantities: memberCount and the model's Quantity amounts; found when a quantity proposal has
  the same number and its words are in one of the fact's quotes;
- statements: found when a proposed statement has the same speaker (by label) and nearly the
  same text (difflib ratio >= 0.8);
- links to known entities: references from facts.yaml to entities of other sources; found when
  the draft links that id;
- new entities: people, organisations, places, documents, events and affiliations; found when a
  proposal of the same family has the same Chinese label, or one label holds the other and they
  share at least 60 % of their characters.

Precision is the share of proposals that match a fact of facts.yaml by the same rules (a
proposal for something the hand file left out counts as wrong, so precision is a lower bound).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from toolkit.config import Settings
from toolkit.draft.propose import Proposal
from toolkit.draft.write import propose_for
from toolkit.errors import UsageError
from toolkit.sources.dates import DateProblem, DateValue, parse_date, resolve_relative
from toolkit.sources.loader import DateLit
from toolkit.sources.text import normalise

DATE_KEYS = [
    "startDate",
    "endDate",
    "dateIssued",
    "datePublished",
    "entryIntoForce",
    "validFrom",
    "validUntil",
    "forYear",
    "startYear",
    "statedOn",
    "asOf",
]
FAMILIES = {
    "person": ("Person",),
    "organisation": ("Organisation", "PublicBody", "Legislature", "ResearchOrganisation", "MediaOrganisation"),
    "place": ("Region", "ProvinceLevelDivision", "City", "Corridor", "TransportRoute", "District", "County"),
    "document": ("PolicyDocument", "FiveYearPlan", "ActionPlan", "RegionalLegislation", "PolicyMeasures"),
    "event": ("Meeting", "Conference"),
    "affiliation": ("Affiliation",),
}
KINDS = ("dates", "quantities", "statements", "known links", "new entities")


@dataclass
class KindScore:
    total: int = 0
    found: int = 0
    missed: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.found / self.total if self.total else None


@dataclass
class Score:
    source_id: str
    kinds: dict[str, KindScore]
    proposals: int
    correct: int
    wrong: list[str]
    quotes: int  # quotes in the draft, each found by the loader's locator
    dropped_quotes: int  # quotes a finder made that the locator did not find (left out)

    @property
    def precision(self) -> float | None:
        return self.correct / self.proposals if self.proposals else None

    def table(self) -> str:
        rows = [f"draft score of {self.source_id} (against its facts.yaml)", f"{'kind':<14} {'found':>9}  recall"]
        for name, k in self.kinds.items():
            pct = f"{k.recall:6.0%}" if k.recall is not None else "   n/a"
            rows.append(f"{name:<14} {k.found:>4}/{k.total:<4} {pct}")
        pct = f"{self.precision:.0%}" if self.precision is not None else "n/a"
        rows.append(f"precision: {self.correct}/{self.proposals} proposals match a fact ({pct})")
        rows.append(
            f"quotes: {self.quotes}, every one found verbatim by the loader's locator"
            f" ({self.dropped_quotes} left out before writing)"
        )
        return "\n".join(rows) + "\n"


def _family(types: Any) -> str | None:
    for t in types if isinstance(types, list) else [types]:
        for fam, members in FAMILIES.items():
            if t in members:
                return fam
    return None


def _date_of(raw: Any, published: DateValue) -> str | None:
    try:
        if isinstance(raw, dict):
            if "value" in raw:
                return parse_date(raw["value"]).lexical
            found = resolve_relative(str(raw.get("stated", "")), published)
            return found.lexical if found else None
        return parse_date(raw).lexical
    except (DateProblem, TypeError):
        return None


def _label(ent: dict[str, Any]) -> str:
    label = ent.get("label")
    return label.get("zh", "") if isinstance(label, dict) else ""


def _same_name(a: str, b: str) -> bool:
    a, b = (re.sub(r"[（(][^）)]*[）)]$", "", x.strip("《》“”")) for x in (a, b))
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return short in long and len(short) >= 0.6 * len(long)


def _quoted(words: str, quotes: list[str]) -> bool:
    return bool(words) and any(words in normalise(q) for q in quotes)


def score_source(settings: Settings, source_id: str) -> Score:
    """Draft ``source_id`` as if new and compare it with its facts.yaml (nothing is written)."""
    got = propose_for(settings, source_id)
    entities = got.doc.data.get("entities") or []
    if not entities:
        raise UsageError(f"{source_id}: facts.yaml has no entities to compare the draft with")
    props = got.proposals
    others = got.other_ids
    by_id = {e.get("id"): e for e in entities if isinstance(e, dict)}
    kinds = {k: KindScore() for k in KINDS}
    matched: set[int] = set()

    def hit(kind: str, ok: list[Proposal], what: str) -> None:
        k = kinds[kind]
        k.total += 1
        if ok:
            k.found += 1
            matched.update(id(p) for p in ok)
        else:
            k.missed.append(what)

    dates = [p for p in props if p.kind == "date"]
    quantities = [p for p in props if p.kind == "quantity"]
    statements = [p for p in props if p.kind == "statement" and not p.commented]
    for ent in entities:
        if not isinstance(ent, dict):
            continue
        # an entry "- subject: <id>" (issue 13) states facts about another source's entity: a link
        ent = {"id": ent.get("id") or f"subject {ent.get('subject')}", **ent}
        quotes = [q for q in ent.get("evidence") or [] if isinstance(q, str)]
        loaded = got.own.get(str(ent.get("id")))
        for key in DATE_KEYS:
            if key in ent:
                # the loader's own reading of the date when the file loads (every date form it knows)
                lits = [v for v in loaded.values.get(key, []) if isinstance(v, DateLit)] if loaded else []
                value = lits[0].value.lexical if lits else _date_of(ent[key], got.published)
                ok = [p for p in dates if p.props.get("value") == value and _quoted(p.stated, quotes)]
                ok += [
                    p
                    for p in props
                    if not p.commented
                    and _same_name(p.label_zh, _label(ent))
                    and _date_of(p.props.get(key), got.published) == value
                ]
                hit("dates", ok, f"{ent['id']}.{key} = {value}")
        for key in ("memberCount", "amount"):
            if isinstance(ent.get(key), (int, float)):
                ok = [p for p in quantities if _number(p) == float(ent[key]) and _quoted(p.stated, quotes)]
                hit("quantities", ok, f"{ent['id']}.{key} = {ent[key]}")
        types = ent.get("type")
        if "Statement" in (types if isinstance(types, list) else [types]):
            speaker = _label(by_id.get(ent.get("speaker"), {})) or str(ent.get("speaker"))
            text = normalise(str(ent.get("text", "")))
            ok = [
                p
                for p in statements
                if p.label_zh.startswith(speaker + "：")
                and difflib.SequenceMatcher(None, text, normalise(str(p.props.get("text", "")))).ratio() >= 0.8
            ]
            hit("statements", ok, f"{ent['id']} ({speaker})")
        for key, value in ent.items():
            if key in ("id", "evidence", "type", "label", "text"):
                continue
            for ref in value if isinstance(value, list) else [value]:
                if isinstance(ref, str) and ref in others:
                    ok = [p for p in props if p.kind in ("known", "candidate") and ref in (p.id, p.note)]
                    hit("known links", ok, f"{ent['id']}.{key} -> {ref}")
        fam = _family(types)
        if fam is not None:
            ok = [p for p in props if not p.commented and p.kind == fam and _same_name(p.label_zh, _label(ent))]
            if fam == "affiliation":
                role = (ent.get("roleLabel") or {}).get("zh", "")
                member = _label(by_id.get(ent.get("member"), {}))
                ok = [
                    p
                    for p in props
                    if p.kind == "affiliation"
                    and p.label_zh.startswith(member + "，")
                    and p.props.get("roleLabel", {}).get("zh") == role
                ]
            hit("new entities", ok, f"{ent['id']} ({_label(ent)})")
    # a proposal also counts as right when it names a fact recall did not ask for by the same rules
    labels = {(_family(e.get("type")), _label(e)) for e in entities if isinstance(e, dict)}
    date_values = {_date_of(e.get(k), got.published) for e in entities for k in DATE_KEYS if k in e}
    correct, wrong = 0, []
    for p in props:
        right = id(p) in matched
        if not right and p.kind == "date":
            right = p.props.get("value") in date_values
        if not right and p.kind in FAMILIES:
            right = any(f == p.kind and _same_name(p.label_zh, lab) for f, lab in labels)
        if not right and p.kind == "known":
            right = True  # a label of a corpus entity, found in the text: a true mention
        correct += right
        if not right:
            wrong.append(f"{p.kind}: {p.label_zh or p.note}")
    quotes = sum(len(p.quotes) for p in props)
    return Score(source_id, kinds, len(props), correct, wrong, quotes, got.dropped_quotes)


def _number(p: Proposal) -> float | None:
    m = re.search(r"= (?:[a-z-]+ )?([\d.]+)", p.note)
    if p.props.get("amount") is not None:
        return float(p.props["amount"])
    return float(m.group(1)) if m else None
