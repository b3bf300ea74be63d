"""The generated files are what model.yaml gives, and say the same things."""

import json
import shutil

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

from toolkit.config import Settings
from toolkit.schema import generate
from toolkit.schema.generate import check_all, render_all
from toolkit.schema.model import load_model


def test_committed_files_match_the_model(repo_settings: Settings) -> None:
    assert check_all(load_model(repo_settings.schema_dir), repo_settings.schema_dir) == []


def test_generation_is_deterministic(repo_settings: Settings) -> None:
    model = load_model(repo_settings.schema_dir)
    assert render_all(model) == render_all(model)


def test_every_class_and_property_has_zh_and_en_label_and_comment(repo_settings: Settings) -> None:
    g = Graph().parse(repo_settings.schema_dir / "ontology.ttl")
    terms = set(g.subjects(RDF.type, OWL.Class)) | set(g.subjects(RDF.type, OWL.ObjectProperty))
    terms |= set(g.subjects(RDF.type, OWL.DatatypeProperty))
    assert len(terms) > 60
    for term in terms:
        for pred in (RDFS.label, RDFS.comment):
            langs = sorted(o.language for o in g.objects(term, pred))
            assert langs == ["en", "zh"], (term, pred, langs)


def test_alignments_to_established_vocabularies(repo_settings: Settings) -> None:
    g = Graph().parse(repo_settings.schema_dir / "ontology.ttl")
    pt = "https://w3id.org/policy-toolkit/ontology#"
    expect = {
        (pt + "RegionalLegislation", RDFS.subClassOf, "http://data.europa.eu/eli/ontology#LegalResource"),
        (pt + "Organisation", RDFS.subClassOf, "http://www.w3.org/ns/org#Organization"),
        (pt + "Person", RDFS.subClassOf, "http://xmlns.com/foaf/0.1/Person"),
        (pt + "TechnologyField", RDFS.subClassOf, "http://www.w3.org/2004/02/skos/core#Concept"),
        (pt + "entryIntoForce", RDFS.subPropertyOf, "http://data.europa.eu/eli/ontology#first_date_entry_in_force"),
        (pt + "evidence", RDFS.subPropertyOf, "http://www.w3.org/ns/prov#wasDerivedFrom"),
        (pt + "Meeting", RDFS.subClassOf, "https://schema.org/Event"),
    }
    closure = {(str(s), p, str(o)) for s, p, o in g}
    # RegionalLegislation reaches eli:LegalResource through PolicyDocument
    sup = {str(o) for o in g.transitive_objects(URIRef(pt + "RegionalLegislation"), RDFS.subClassOf)}
    assert "http://data.europa.eu/eli/ontology#LegalResource" in sup
    expect.discard((pt + "RegionalLegislation", RDFS.subClassOf, "http://data.europa.eu/eli/ontology#LegalResource"))
    assert expect <= closure


def test_every_class_has_a_shape_and_shapes_use_declared_properties(repo_settings: Settings) -> None:
    ont = Graph().parse(repo_settings.schema_dir / "ontology.ttl")
    shapes = Graph().parse(repo_settings.schema_dir / "shapes.ttl")
    classes = set(ont.subjects(RDF.type, OWL.Class))
    targeted = set(shapes.objects(None, SH.targetClass))
    assert classes == targeted
    declared = set(ont.subjects(RDF.type, OWL.ObjectProperty)) | set(ont.subjects(RDF.type, OWL.DatatypeProperty))
    declared |= {RDFS.label, RDFS.comment}
    used = set(shapes.objects(None, SH.path))
    assert used <= declared, used - declared


def test_dates_allow_three_precisions_and_a_sparql_constraint_exists(repo_settings: Settings) -> None:
    text = (repo_settings.schema_dir / "shapes.ttl").read_text(encoding="utf-8")
    assert "sh:or ( [ sh:datatype xsd:date ] [ sh:datatype xsd:gYearMonth ] [ sh:datatype xsd:gYear ] )" in text
    shapes = Graph().parse(data=text, format="turtle")
    assert len(list(shapes.subjects(RDF.type, SH.SPARQLConstraint))) >= 1
    assert (None, SH.uniqueLang, None) in shapes and (None, SH.languageIn, None) in shapes


def test_context_terms_map_to_known_iris(repo_settings: Settings) -> None:
    ont = Graph().parse(repo_settings.schema_dir / "ontology.ttl")
    known = {str(s) for s in ont.subjects()} | {str(RDFS.label), str(RDFS.comment)}
    ctx = json.loads((repo_settings.schema_dir / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    for term, value in ctx.items():
        if term.startswith("@") or term in prefixes or term in ("id", "type"):
            continue
        iri = value if isinstance(value, str) else value["@id"]
        prefix, _, local = iri.partition(":")
        assert prefixes[prefix] + local in known, term


def test_facts_schema_fields_all_have_a_context_mapping(repo_settings: Settings) -> None:
    schema = json.loads((repo_settings.schema_dir / "facts.schema.json").read_text(encoding="utf-8"))
    ctx = json.loads((repo_settings.schema_dir / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    fields = set(schema["$defs"]["entity"]["properties"]) | set(schema["$defs"]["source"]["properties"])
    structural = {"text", "body"}  # describe the archive, become pt:archivedFile / pt:bodyStart...
    structural |= {"inferred", "attributed"}  # say how values were arrived at: pt:Inference, pt:Claim
    assert fields - structural <= set(ctx), fields - structural - set(ctx)


def test_the_remembered_schema_check_follows_the_bytes(repo_settings: Settings, tmp_path, monkeypatch) -> None:
    """`validate` remembers the schema check by the files' bytes: a second check of the same
    bytes renders nothing, and any edit to a generated file or model.yaml is seen at once."""
    schema = tmp_path / "schema"
    shutil.copytree(repo_settings.schema_dir, schema)
    readme = tmp_path / "README.md"
    shutil.copy(repo_settings.root / "README.md", readme)
    renders: list[int] = []
    real = generate.check_all
    monkeypatch.setattr(generate, "check_all", lambda *a: renders.append(1) or real(*a))
    assert generate.stale_files(schema) == []
    assert generate.stale_files(schema) == []
    assert len(renders) == 1
    with (schema / "shapes.ttl").open("a", encoding="utf-8") as f:
        f.write("# edited by hand\n")
    assert generate.stale_files(schema) == ["shapes.ttl"]
    model = schema / "model.yaml"
    (schema / "shapes.ttl").write_bytes((repo_settings.schema_dir / "shapes.ttl").read_bytes())
    model.write_text(model.read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.0.1"), encoding="utf-8")
    assert "ontology.ttl" in generate.stale_files(schema)
    assert len(renders) == 3
    shutil.copy(repo_settings.schema_dir / "model.yaml", model)
    assert generate.stale_files(schema) == []
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace("| class | label |", "| klass | label |", 1), encoding="utf-8")
    assert generate.stale_files(schema) == ["README.md"]


def test_the_readme_data_model_is_generated_and_drift_is_found(repo_settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from toolkit.schema.generate import README_BEGIN, README_END, readme_section, write_all

    model = load_model(repo_settings.schema_dir)
    readme = (repo_settings.root / "README.md").read_text(encoding="utf-8")
    inside = readme[readme.index(README_BEGIN) + len(README_BEGIN) : readme.index(README_END)]
    assert inside == "\n" + readme_section(model)
    # every class of the model has its row, every link property its edge
    for cls in model.classes:
        assert f"| `{cls}`" in inside
    assert "Meeting -- partOfSeries --> EventSeries" in inside
    # a hand edit between the markers is drift: check_all names the README, write_all repairs it
    shutil.copytree(repo_settings.schema_dir, tmp_path / "schema")
    (tmp_path / "README.md").write_text(readme.replace("| `Quantity`", "| `Amount`"), encoding="utf-8")
    assert check_all(model, tmp_path / "schema") == ["README.md"]
    assert write_all(model, tmp_path / "schema") == ["README.md"]
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == readme
