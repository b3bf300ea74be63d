"""The inference check reads a unit's lines with :func:`toolkit.validate.inferences.nt_terms`,
not rdflib's N-Triples parser (issue 11: the parser was most of the check's time on every
build). The terms must be the parser's, for every line the build writes and any literal."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.serializers.nt import _quoteLiteral

from toolkit.config import load_settings
from toolkit.corpus.generate import write_corpus
from toolkit.export import units as U
from toolkit.sources import loader
from toolkit.validate.inferences import nt_terms

REPO = Path(__file__).resolve().parents[2]
S, P = "<https://example.org/s>", "<https://example.org/p>"


def parsed(lines: list[str]) -> list[tuple[object, object, object]]:
    g = Graph()
    g.parse(data="\n".join(lines), format="nt")
    return sorted(g)


def test_every_line_of_generated_units_gives_the_parsers_terms(tmp_path: Path) -> None:
    out = write_corpus(tmp_path / "sources", seed=5, sources=8).out
    s = load_settings(REPO).with_overrides(sources_dir=out, release_dir=tmp_path / "release")
    ctx = U.StageContext(settings=s, digest="test")
    lines = []
    for folder in loader.source_folders(out):
        unit = U.process_folder(folder, ctx, "key")
        assert unit.lines is not None
        lines += unit.lines
    terms = nt_terms(lines)
    assert terms is not None and len(lines) > 500
    assert sorted(set(terms)) == parsed(lines)


LANGS = st.sampled_from([None, "zh", "en", "zh-Hans"])
DATATYPES = st.sampled_from([None, "http://www.w3.org/2001/XMLSchema#date", "http://www.w3.org/2001/XMLSchema#string"])


@settings(max_examples=300, deadline=None)
@given(st.text(), LANGS, DATATYPES)
def test_any_literal_gives_the_parsers_term(text: str, lang: str | None, datatype: str | None) -> None:
    lit = Literal(text, lang=lang) if lang else Literal(text, datatype=URIRef(datatype) if datatype else None)
    line = f"{S} {P} {_quoteLiteral(lit)} ."
    try:
        expected = parsed([line])
    except Exception:  # a line rdflib cannot read: nt_terms must not read it either
        assert nt_terms([line]) is None
        return
    assert nt_terms([line]) == expected


def test_escaped_iris_and_other_forms() -> None:
    line = '<https://example.org/caf\\u00E9> <https://example.org/p> "a\\"b\\\\c\\nd\\U0001F600"@en .'
    assert nt_terms([line]) == parsed([line])
    assert nt_terms(["_:b0 <https://example.org/p> <https://example.org/o> ."]) is None  # not the build's form
    assert nt_terms([f"{S}  {P} <https://example.org/o> ."]) is None  # two spaces: left to rdflib
