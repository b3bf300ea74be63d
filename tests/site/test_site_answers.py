"""The saved queries' answers cut into rows without parsing (toolkit/site/cut.py): a part's rows parsed
alone are the whole answer's rows there, a part's key changes only with its own rows, a part made again
parses only its own rows, and the child sends the answers already cut, taken when first needed."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from tests.site.test_site_incremental import tree
from tests.site.test_site_parts import project
from toolkit.errors import LoadError
from toolkit.query import find_query, load_store
from toolkit.query.engine import evaluate, from_wire
from toolkit.site import answers, cut, incremental, write_site
from toolkit.site.cut import cut_answer
from toolkit.site.pages import SiteBuilder, answer_saved

EX = "https://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
#: values that look like the answer's own syntax, escapes, languages, datatypes, blank nodes
AWKWARD = [
    ox.Literal('x},{"y\\'),
    ox.Literal("}}]}}", language="en"),
    ox.Literal("行\t一\n二", language="zh"),
    ox.Literal("1", datatype=ox.NamedNode(XSD + "integer")),
    ox.Literal('"quoted"'),
    ox.Literal("x"),
    ox.Literal("x", language="en"),
    ox.NamedNode(EX + "a"),
    ox.NamedNode(EX + "a-b"),
    ox.BlankNode("b1"),
    ox.BlankNode("b12"),
]


def awkward_store() -> ox.Store:
    store = ox.Store()
    for n, o in enumerate(AWKWARD):
        s = ox.BlankNode("b1") if n % 4 == 0 else ox.NamedNode(EX + f"s{n % 3}")
        store.add(ox.Quad(s, ox.NamedNode(EX + f"p{n % 2}"), o, ox.NamedNode(EX + "g")))
    return store


def answer(store: ox.Store, text: str, tsv: bool = False) -> tuple[str, bytes]:
    kind, data = evaluate(store, text, tsv=tsv)
    assert kind in ("select", "tsv", "graph", "ask"), data
    return kind, data


@pytest.mark.parametrize("tsv", [False, True], ids=["json", "tsv"])
@pytest.mark.parametrize(
    "text",
    [
        "SELECT ?s ?p ?o ?none WHERE { ?s ?p ?o } ORDER BY ?o ?s",
        "SELECT ?o WHERE { ?s ?p ?o FILTER(false) }",
        # rows whose values are all unbound (an empty line in TSV), among others and alone
        "SELECT ?o WHERE { { ?s ?p ?o } UNION { OPTIONAL { ?s <https://example.org/none> ?o } } } ORDER BY ?o",
        "SELECT ?o WHERE { OPTIONAL { ?s <https://example.org/none> ?o } }",
        "SELECT * WHERE { }",
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "CONSTRUCT { ?s <https://example.org/q> ?o . ?o <https://example.org/q> ?s } WHERE { ?s ?p ?o }",
    ],
)
def test_a_part_of_an_answer_parsed_alone_is_the_whole_answers_rows_there(text: str, tsv: bool) -> None:
    """In SPARQL-JSON or SPARQL-TSV (the site's, a row a line), each part of the answer parsed alone gives
    the rows the whole answer, parsed as SPARQL-JSON, gives there."""
    kind, data = answer(awkward_store(), text, tsv=tsv)
    whole = from_wire(*answer(awkward_store(), text))
    rows = whole.rows if whole.kind == "select" else whole.triples
    found = cut_answer(kind, data)
    assert found.parsed is None  # cut, not parsed
    assert found.tsv == (tsv and whole.kind == "select")
    assert (found.kind, found.variables, found.count) == (whole.kind, whole.variables, len(rows))
    for size in (1, 2, 3, 7, 100):
        for start in range(0, max(1, len(rows)), size):
            assert found.rows(start, start + size) == rows[start : start + size]


def test_a_boolean_and_an_answer_not_of_the_engines_shape_are_parsed_whole() -> None:
    kind, data = answer(awkward_store(), "ASK { ?s ?p ?o }")
    found = cut_answer(kind, data)
    assert (found.kind, found.boolean, found.count) == ("ask", True, 0)
    kind, data = answer(awkward_store(), "SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o")
    spaced = data.replace(b',"results":', b', "results": ')  # valid JSON, not as the engine writes it
    found = cut_answer(kind, spaced)
    assert found.parsed is not None and found.rows(0, 100) == from_wire(kind, data).rows


def test_a_parts_digest_changes_only_with_its_own_rows() -> None:
    store = ox.Store()
    for n in range(10):
        store.add(
            ox.Quad(ox.NamedNode(EX + f"s{n}"), ox.NamedNode(EX + "p"), ox.Literal(f"v{n}"), ox.NamedNode(EX + "g"))
        )
    query = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s"
    before = cut_answer(*answer(store, query))
    store.remove(ox.Quad(ox.NamedNode(EX + "s5"), ox.NamedNode(EX + "p"), ox.Literal("v5"), ox.NamedNode(EX + "g")))
    store.add(ox.Quad(ox.NamedNode(EX + "s5"), ox.NamedNode(EX + "p"), ox.Literal("changed"), ox.NamedNode(EX + "g")))
    after = cut_answer(*answer(store, query))
    parts = [(k, k + 3) for k in range(0, 10, 3)]
    assert [before.digest(*p) == after.digest(*p) for p in parts] == [True, False, True, True]


def test_a_label_in_one_part_of_a_query_remakes_that_part_parsing_its_rows_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a label edit: the query's other parts are kept, their keys made without parsing the answer,
    and the part made again parses its own row only; the bytes are a whole build's."""
    settings = project(tmp_path / "p", **{"page-rows": 1})
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    parsed: list[int] = []  # the bytes of every SPARQL-JSON answer parsed meanwhile
    real_parse = ox.parse_query_results
    monkeypatch.setattr(
        ox, "parse_query_results", lambda data, **kw: parsed.append(len(data)) or real_parse(data, **kw)
    )
    monkeypatch.setattr(cut, "from_wire", lambda *a: pytest.fail("an answer was parsed whole"))
    made: list[tuple[Any, ...]] = []
    real_page = SiteBuilder.query_page
    monkeypatch.setattr(SiteBuilder, "query_page", lambda self, *a: made.append(a) or real_page(self, *a))
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    write_site(settings, out=out, jobs=1)
    monkeypatch.undo()
    assert made == [("labels", 3)]
    saved = find_query("labels", settings.root / "queries")
    kind, data = answer_saved(load_store(settings), saved, "https://example.org/data/id/")
    rows = cut_answer(kind, data)
    one = len(rows.head + b"\n" + rows.slice_bytes(2, 3))  # SPARQL-TSV: the variables' line, its row
    assert parsed == [one] and rows.count == 3 and one < len(data)  # its one row of three
    write_site(dataclasses.replace(settings), out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)
    assert "Thing renamed" in tree(out)["en/queries/labels/3/index.html"].decode()


def test_the_child_sends_the_answers_cut_and_they_are_taken_after_the_other_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answers come from the child already cut (this process does not scan them), and this process
    asks for them only after it hashed the keys that do not need them and made the pages that do not need
    them (the child works meanwhile); then it hashes the queries' parts' keys and makes their pages."""
    settings = project(tmp_path / "p", **{"page-rows": 1})
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    here = os.getpid()
    cut_here: list[str] = []
    real_cut = answers.cut_answer
    monkeypatch.setattr(answers, "cut_answer", lambda *a: cut_here.append("child") or real_cut(*a))
    monkeypatch.setattr("toolkit.site.pages.cut_answer", lambda *a: cut_here.append("parent") or real_cut(*a))
    order: list[str] = []
    real_value, real_take = SiteBuilder.dep_value, answers.Answers.take
    monkeypatch.setattr(
        SiteBuilder, "dep_value", lambda self, k, n: order.append(f"{k}\t{n}") or real_value(self, k, n)
    )
    monkeypatch.setattr(answers.Answers, "take", lambda self: order.append("take") or real_take(self))
    real_changed, real_make = incremental.changed_keys, incremental.make_pages

    def changed(*a: Any, **k: Any) -> Any:
        found = real_changed(*a, **k)
        order.append(f"hashed {k.get('queries')}")
        return found

    def make(*a: Any, **k: Any) -> Any:
        order.append(f"pages {k.get('answered', True)} {len(a[1])}")
        return real_make(*a, **k)

    monkeypatch.setattr(incremental, "changed_keys", changed)
    monkeypatch.setattr(incremental, "make_pages", make)
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    write_site(settings, out=out, jobs=1)
    assert os.getpid() == here and cut_here == []  # cut in the child (its list is its own copy)
    marks = [m for m in order if m.startswith(("hashed", "pages", "take"))]
    # the keys but the queries', the resource pages (some made again), the answers, the queries' keys and pages
    assert marks[:5] == ["hashed False", marks[1], "take", "hashed True", "pages True 0"], marks
    assert marks[1].startswith("pages False ") and marks[1] != "pages False 0"
    first = order[: order.index("hashed False")]
    assert first and not any(k.startswith("resources\tquery") for k in first)
    queries = order[order.index("take") : order.index("hashed True")]
    assert any(k.startswith("resources\tquery") for k in queries)


def test_without_a_child_the_answers_are_cut_here_with_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = project(tmp_path / "p", **{"page-rows": 2})
    write_site(settings, out=tmp_path / "site", jobs=1)

    def no_child(self: answers.Answers, *args: Any) -> None:
        self.child, self.times = None, {}

    monkeypatch.setattr(answers.Answers, "__init__", no_child)
    monkeypatch.setattr(incremental, "CHUNK", 1)
    write_site(settings, out=tmp_path / "here", jobs=2)
    assert tree(tmp_path / "here") == tree(tmp_path / "site")


def test_a_bad_iri_stops_the_run_though_the_child_loads_the_release_leniently(tmp_path: Path) -> None:
    """The child loads ``policy.nq`` without checking IRIs (faster); this process parses every changed
    block strictly, so a bad IRI still stops the run, with the file named, and the site stays as it was."""
    settings = project(tmp_path / "p")
    nq = settings.release_dir / "policy.nq"
    other = f'<{EX}data/id/zz> <{EX}vocab#note> "z" <{EX}data/id/graph/s2> .'
    nq.write_text(nq.read_text(encoding="utf-8") + other + "\n", encoding="utf-8")  # a second graph's block
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    before = tree(out)
    nq.write_text(nq.read_text(encoding="utf-8").replace("/zz>", "/z{bad}>"), encoding="utf-8")
    assert len(load_store(settings, lenient=True)) > 0  # what the child is given loads
    with pytest.raises(LoadError, match=r"not valid N-Quads: Invalid IRI code point '\{'") as err:
        write_site(settings, out=out, jobs=2)
    line = next(n for n, text in enumerate(nq.read_text(encoding="utf-8").splitlines(), 1) if "{bad}" in text)
    assert (err.value.file, err.value.line) == (str(nq), line)  # its line in the file, not in its block
    assert line > 1 and tree(out) == before
