"""Inferences: every inferred or attributed value listed (Info), and every link whose evidence
never names its target warned about (Warning), unless the value carries an inference mark.

Why: a quote is the proof of a fact only when it says what the fact says. An entity whose
quotes never name the entity it links to (a designation ``usedIn`` a plan its quote does not
mention) rests on something else (the paragraph before, a coordination spelt out, an assumption):
that is fine when it is said (``inferred:`` in the facts file, a ``pt:Inference`` in the
release) and worth a warning when it is not.

Which properties are checked is the model's word (``namedInEvidence: true`` in
``schema/model.yaml``): a link is checked against the names of its target (its zh label,
literal form, short title, the literal forms of the designations that designate it, each also
without a parenthesis or a leading year, the target's own quotes: a quote that holds one holds
the words that introduce the target, and 本报 "this paper" for the article's publisher), a text
value against the text itself. The
check reads one source's triples, as the build hands them per unit: a target another source
describes has no names there, and is not judged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.parsers import ntriples as nt

from toolkit.config import Settings, where
from toolkit.graph import build_graph
from toolkit.report import Severity, ValidationReport, ValidationResult
from toolkit.schema.model import Model
from toolkit.sources.loader import Corpus
from toolkit.validate.base import UnitContext, ValidationContext
from toolkit.yamlfile import YamlDoc, load_yaml

NAME = "inferences"
#: how an article names its own publisher ("接受本报记者采访": interviewed by this paper's reporter)
SELF_NAMES = ("本报", "本刊", "本台", "本网", "本社")
_DROP = re.compile(r"[\s\"'“”‘’《》「」『』]")
_PARENS = re.compile(r"\([^()]*\)")
_YEAR = re.compile(r"^[0-9]{4}年")


def normalise(text: str) -> str:
    """Text as names are compared: full-width forms folded (NFKC), spaces and quote marks gone."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text))


def _variants(name: str) -> set[str]:
    base = normalise(name)
    out = {base, _PARENS.sub("", base), _YEAR.sub("", base), _YEAR.sub("", _PARENS.sub("", base))}
    return {n for n in out if len(n) >= 2}


def names_of(g: Graph, node: URIRef, pt: Namespace) -> set[str]:
    """Every name the graph gives ``node``: zh labels, literal forms, short titles, the literal
    forms of the designations of it, its own evidence quotes, and for the article's publisher the
    words an article names itself by (本报, this paper)."""
    texts = [o for o in g.objects(node, RDFS.label) if isinstance(o, Literal) and o.language in ("zh", None)]
    texts += list(g.objects(node, pt.literalForm)) + list(g.objects(node, pt.shortTitle))
    for designation in g.subjects(pt.designates, node):
        texts += list(g.objects(designation, pt.literalForm))
    out: set[str] = set()
    for t in texts:
        out |= _variants(str(t))
    # a quote that holds one of the target's own quotes holds the words that introduce it
    out |= {normalise(str(q)) for ev in g.objects(node, pt.evidence) for q in g.objects(ev, pt.quote)}
    if out and (None, pt.publisher, node) in g:  # the article's publisher: 本报 (this paper), 本台...
        out |= set(SELF_NAMES)
    return out


def _label(g: Graph, node: object) -> str | None:
    for o in g.objects(node, RDFS.label):  # type: ignore[arg-type]
        if isinstance(o, Literal) and o.language == "zh":
            return str(o)
    return None


def _local(model: Model, iri: str) -> str:
    prop = model.property_by_iri.get(iri)
    return prop.name if prop is not None else iri


def _marked(g: Graph, pt: Namespace) -> set[tuple[object, object, object]]:
    out = set()
    for mark in g.subjects(RDF.type, pt.Inference):
        out.add(
            (
                g.value(mark, pt.inferredResource),
                g.value(mark, pt.inferredProperty),
                g.value(mark, pt.inferredValue),
            )
        )
    return out


def mention_results(g: Graph, model: Model, facts_file: str) -> list[ValidationResult]:
    """Warnings for the statements of ``g`` (one source) whose subject's quotes never name
    the value, and that carry no inference mark."""
    pt = Namespace(model.ns)
    checked = {p.iri: p for p in model.properties.values() if p.named_in_evidence}
    marked = _marked(g, pt)
    out: list[ValidationResult] = []
    for iri, prop in sorted(checked.items()):
        for s, o in sorted(g.subject_objects(URIRef(iri)), key=lambda so: (str(so[0]), str(so[1]))):
            if (s, URIRef(iri), o) in marked:
                continue
            quotes = [normalise(str(q)) for ev in g.objects(s, pt.evidence) for q in g.objects(ev, pt.quote)]
            if not quotes:
                continue
            names = _variants(str(o)) if isinstance(o, Literal) else names_of(g, o, pt)
            if not names or any(n in q for n in names for q in quotes):
                continue
            what = f"'{o}'" if isinstance(o, Literal) else f"{_label(g, o) or o}"
            out.append(
                ValidationResult(
                    validator=NAME,
                    severity=Severity.WARNING,
                    message=(
                        f"no evidence quote of this entity names {what}, the value of {prop.name}: quote the "
                        f"words that say it, or mark the value as inferred (inferred: {{{prop.name}: "
                        "{method: ..., note: {zh: ..., en: ...}}})"
                    ),
                    focus_node=str(s),
                    focus_label=_label(g, s),
                    path=prop.name,
                    value=str(o),
                    source_file=facts_file,
                )
            )
    return out


def mark_results(g: Graph, model: Model, facts_file: str) -> list[ValidationResult]:
    """One Info result per inferred or attributed value of ``g`` (one source): inference marks,
    the article's attributed claims and the relative dates it resolved."""
    pt = Namespace(model.ns)
    out: list[ValidationResult] = []

    def note(node: object) -> str:
        texts = {o.language: str(o) for o in g.objects(node, RDFS.comment) if isinstance(o, Literal)}  # type: ignore[arg-type]
        return texts.get("en") or texts.get("zh") or ""

    def add(subject: object, prop: object, value: object, method: str, text: str) -> None:
        name = _local(model, str(prop))
        out.append(
            ValidationResult(
                validator=NAME,
                severity=Severity.INFO,
                message=f"{method}: {text}" if text else method,
                focus_node=str(subject),
                focus_label=_label(g, subject),
                path=name,
                value=str(value),
                source_file=facts_file,
            )
        )

    for mark in sorted(g.subjects(RDF.type, pt.Inference)):
        method = str(g.value(mark, pt.inferenceMethod)).removeprefix(model.ns)
        add(
            g.value(mark, pt.inferredResource),
            g.value(mark, pt.inferredProperty),
            g.value(mark, pt.inferredValue),
            f"inferred ({method})",
            note(mark),
        )
    for claim in sorted(g.subjects(RDF.type, pt.Claim)):
        method_iri = g.value(claim, pt.inferenceMethod)
        if method_iri is None:
            continue
        method = str(method_iri).removeprefix(model.ns)
        prop = str(g.value(claim, pt.claimProperty))
        add(
            g.value(claim, pt.claimSubject),
            prop,
            g.value(claim, pt.claimValue),
            f"claimed ({method})",
            note(claim),
        )
    for res in sorted(g.subjects(RDF.type, pt.DateResolution)):
        stated = g.value(res, pt.statedText)
        add(
            g.value(res, pt.resolvedResource),
            g.value(res, pt.resolvedProperty),
            g.value(res, pt.resolvedValue),
            "inferred (relative-date)",
            f"{stated} -> {g.value(res, pt.resolvedValue)}" + (f"; {note(res)}" if note(res) else ""),
        )
    return out


def _unit_graph(ctx: UnitContext) -> Graph:
    """The unit's triples this check reads (labels, names, quotes, marks and the checked
    properties), parsed from its N-Triples lines: only those lines, to keep the build fast."""
    pt = ctx.model.ns
    wanted = {
        str(RDFS.label),
        pt + "evidence",
        pt + "quote",
        pt + "literalForm",
        pt + "shortTitle",
        pt + "designates",
        pt + "publisher",
        *(p.iri for p in ctx.model.properties.values() if p.named_in_evidence),
        pt + "inferredResource",
        pt + "inferredProperty",
        pt + "inferredValue",
    }
    keep = []
    for line in ctx.lines:
        after = line.find("> <") + 3
        if line[after : line.find(">", after)] in wanted or line.endswith(f"<{pt}Inference> ."):
            keep.append(line)
    g = Graph()
    triples = nt_terms(keep)
    if triples is None:
        g.parse(data="\n".join(keep), format="nt")
    else:
        for triple in triples:
            g.add(triple)
    return g


#: an N-Triples line as the build writes it (IRI subject and predicate, one space apart), in
#: the patterns of rdflib's own N-Triples parser
_NT_LINE = re.compile(
    rf"{nt.uriref} {nt.uriref} (?:{nt.uriref}|{nt.literal}{nt.litinfo}) \.",
)


def _iri(text: str) -> URIRef:
    return URIRef(nt.uriquote(nt.unquote(text)))


def nt_terms(lines: list[str]) -> list[tuple[URIRef, URIRef, URIRef | Literal]] | None:
    """The terms rdflib's N-Triples parser makes of ``lines`` (the same escapes undone, by its
    own functions), or None when a line is not in the build's form (then parse it with rdflib).

    Why: the check runs on every unit of every build, and rdflib's parser, a call per token,
    was nine tenths of its time (about 5 s of CPU for 2,000 sources)."""
    out = []
    for line in lines:
        m = _NT_LINE.fullmatch(line)
        if m is None:
            return None
        s, p, o, lexical, lang, datatype = m.groups()
        if o is not None:
            obj: URIRef | Literal = _iri(o)
        else:
            if lang and datatype:
                return None  # rdflib refuses it: let it say so
            obj = Literal(nt.unquote(lexical), lang or None, _iri(datatype) if datatype else None)
        out.append((_iri(s), _iri(p), obj))
    return out


def locate(results: list[ValidationResult], settings: Settings) -> list[ValidationResult]:
    """``results`` with the line of the facts file that states each one (its entry's property).

    Read from the facts file itself, and only when there is something to report: the build's
    per-source units hand validators no lines, and both paths must give the same report.
    """
    docs: dict[str, dict[str, tuple[str | int, ...]]] = {}
    lines_of: dict[str, YamlDoc] = {}
    out = []
    for r in results:
        if r.source_file is None or r.focus_node is None:
            out.append(r)
            continue
        if r.source_file not in docs:
            doc = load_yaml(settings.root / r.source_file)
            index: dict[str, tuple[str | int, ...]] = {}
            for i, raw in enumerate(doc.data.get("entities") or []):
                ident = raw.get("id", raw.get("subject")) if isinstance(raw, dict) else None
                if isinstance(ident, str):
                    index.setdefault(settings.base_iri + ident, ("entities", i))
            source = doc.data.get("source")
            if isinstance(source, dict) and isinstance(source.get("id"), str):
                index[settings.base_iri + "source/" + source["id"]] = ("source",)
            docs[r.source_file] = index
            lines_of[r.source_file] = doc
        at = docs[r.source_file].get(r.focus_node)
        doc = lines_of[r.source_file]
        line = None if at is None else doc.line_of((*at, r.path)) if r.path else doc.line_of(at)
        if at is not None and line is None:
            line = doc.line_of(at)
        out.append(replace(r, line=line))
    return out


class InferenceValidator:
    """Links whose quotes never name their target (Warning), on every unit of the build and by
    `validate`; with ``list_marks`` (the `validate` command) also every inferred or attributed
    value (Info). The build's report leaves the marks out: the release publishes them
    (pt:Inference, csv/inferences.csv, the saved query `inferred`), and a report with results
    would make every rebuild a full one."""

    name = NAME

    def __init__(self, list_marks: bool = False) -> None:
        self.list_marks = list_marks

    def validate_unit(self, ctx: UnitContext, report: ValidationReport) -> None:
        found = mention_results(_unit_graph(ctx), ctx.model, ctx.facts_file)
        report.extend(locate(found, ctx.settings))

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        if ctx.graph is None or ctx.corpus is None:
            return
        for src in ctx.corpus.sources:
            g = build_graph(Corpus(sources=[src], entities=ctx.corpus.entities), ctx.model, ctx.settings.base_iri)
            facts = where(src.facts_path, ctx.settings)
            found = mention_results(g, ctx.model, facts)
            if self.list_marks:
                found += mark_results(g, ctx.model, facts)
            report.extend(locate(found, ctx.settings))
