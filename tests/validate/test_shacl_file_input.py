"""An N-Triples file as SHACL input (the fast build's DCAT-AP check hands the catalog so): the
same results as its bytes, ill-formed literals marked, and the default engine reads the file
itself rather than this process holding its bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from toolkit.validate.shacl import rust_engine, validate_data
from toolkit.validate.shacl.literals import STANDIN, XSD, mark_ntriples, mark_ntriples_file

EX = "http://example.org/ns#"
SHAPES = f"""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <{EX}> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
  sh:property [ sh:path ex:year ; sh:datatype xsd:gYear ] ;
  sh:property [ sh:path ex:name ; sh:maxLength 3 ] ."""


def data(n: int) -> bytes:
    """``n`` focus nodes with a label; the last one's year is ill-formed and its name too long."""
    lines = []
    for i in range(n):
        s = f"<{EX}n{i:03d}>"
        year, name = ("25", "abcdef") if i == n - 1 else ("2025", "abc")
        lines += [
            f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}C> .",
            f'{s} <http://www.w3.org/2000/01/rdf-schema#label> "node {i}"@en .',
            f'{s} <{EX}year> "{year}"^^<{XSD}gYear> .',
            f'{s} <{EX}name> "{name}" .',
        ]
    return ("\n".join(lines) + "\n").encode()


def test_a_file_is_marked_chunk_by_chunk_as_its_bytes_are(tmp_path: Path) -> None:
    nt = data(40)
    path = tmp_path / "d.nt"
    path.write_bytes(nt)
    for chunk in range(40, 140, 3):  # many chunks, some cutting the ill-formed literal in two
        marked = mark_ntriples_file(path, chunk=chunk)
        assert marked != path and marked.read_bytes() == mark_ntriples(nt), chunk
        assert marked.read_bytes().count(STANDIN.encode()) == 1
    clean = tmp_path / "clean.nt"
    clean.write_bytes(nt.rsplit(b"\n", 5)[0] + b"\n")
    assert mark_ntriples_file(clean, chunk=100) == clean  # nothing to mark: the file itself


@pytest.mark.parametrize("engine", ["shacl", "pyshacl"])
def test_a_file_gives_the_results_its_bytes_give(tmp_path: Path, engine: str) -> None:
    shapes = Graph().parse(data=SHAPES, format="turtle")
    nt = data(30)
    path = tmp_path / "d.nt"
    path.write_bytes(nt)
    from_bytes, _ = validate_data(nt, shapes, engine=engine)
    from_file, _ = validate_data(path, shapes, engine=engine)
    assert sorted(map(repr, from_file)) == sorted(map(repr, from_bytes))
    assert {r.constraint for r in from_file} == {"sh:DatatypeConstraintComponent", "sh:MaxLengthConstraintComponent"}
    assert {r.focus_label for r in from_file} == {"node 29"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.nt"]  # the marked copy is gone


def test_the_default_engine_reads_the_file_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shapes = Graph().parse(data=SHAPES, format="turtle")
    path = tmp_path / "d.nt"
    path.write_bytes(data(5).replace(b'"25"', b'"2025"').replace(b"abcdef", b"abc"))

    def no_bytes(_data: object) -> bytes:
        raise AssertionError("the file's bytes were read into the process")

    monkeypatch.setattr(rust_engine, "as_ntriples", no_bytes)
    results, _ = validate_data(path, shapes, engine="shacl")
    assert results == []
