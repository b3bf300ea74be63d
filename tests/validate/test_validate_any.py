"""`policy-toolkit validate FILE --shapes S [--ontology O] [--engine E]`: any RDF, any shapes.

Exit 0 conforms, 1 not, 2 unreadable input or bad usage; the same report formats; the same
report whichever engine runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.cli import app

runner = CliRunner()

SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:AnimalShape a sh:NodeShape ; sh:targetClass ex:Animal ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string ] ;
  sh:property [ sh:path ex:tame ; sh:datatype xsd:boolean ] .
"""
ONTOLOGY = """@prefix ex: <http://example.org/ns#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Dog rdfs:subClassOf ex:Animal .
"""
DATA = """@prefix ex: <http://example.org/ns#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:rex a ex:Dog ; ex:tame "yes"^^xsd:boolean .
ex:tom a ex:Animal ; ex:name "Tom" .
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("shapes.ttl", SHAPES), ("ontology.ttl", ONTOLOGY), ("data.ttl", DATA)):
        out[name] = tmp_path / name
        out[name].write_text(text, encoding="utf-8")
    return out


def run(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, ["validate", *map(str, args)])
    return result.exit_code, result.output


def test_conforming_data_exits_0(files: dict[str, Path]) -> None:
    code, out = run(files["data.ttl"], "--shapes", files["shapes.ttl"])  # no ontology: rex is no Animal
    assert code == 0, out
    assert "Validation conforms" in out


@pytest.mark.parametrize("engine", ["shacl", "pyshacl"])
def test_the_ontology_is_mixed_in_and_ill_formed_literals_are_reported(files: dict[str, Path], engine: str) -> None:
    code, out = run(files["data.ttl"], "--shapes", files["shapes.ttl"], "--ontology", files["ontology.ttl"],
                    "--engine", engine, "--format", "json")  # fmt: skip
    assert code == 1, out
    doc = json.loads(out)
    got = sorted((r["focus_node"], r["constraint"], r["value"], r["message"]) for r in doc["results"])
    rex = "http://example.org/ns#rex"
    assert got == [
        (rex, "sh:DatatypeConstraintComponent", "yes", "Value is not Literal with datatype xsd:boolean"),
        (rex, "sh:MinCountConstraintComponent", None, "Less than 1 values on ex:rex->ex:name"),
    ]
    assert doc["validators"] == ["shacl"]


def test_both_engines_give_the_same_report(files: dict[str, Path]) -> None:
    args = (files["data.ttl"], "--shapes", files["shapes.ttl"], "--ontology", files["ontology.ttl"])
    assert run(*args, "--format", "json") == run(*args, "--format", "json", "--engine", "pyshacl")
    code, out = run(*args, "--format", "turtle")
    assert code == 1 and '"yes"^^xsd:boolean' in out and "sh:conforms false" in out


def test_unreadable_input_exits_2(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/ns#> . ex:a ex:b", encoding="utf-8")
    assert run(bad, "--shapes", files["shapes.ttl"])[0] == 2
    assert run(files["data.ttl"], "--shapes", bad)[0] == 2
    assert run(files["data.ttl"], "--shapes", tmp_path / "missing.ttl")[0] == 2
    assert run(tmp_path / "missing.ttl", "--shapes", files["shapes.ttl"])[0] == 2


def test_bad_usage_exits_2(files: dict[str, Path]) -> None:
    code, out = run("--shapes", files["shapes.ttl"])
    assert code == 2 and "need an RDF FILE" in out
    code, out = run(files["data.ttl"], "--shapes", files["shapes.ttl"], "--engine", "nope")
    assert code == 2 and "unknown SHACL engine" in out
