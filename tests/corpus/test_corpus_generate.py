"""The synthetic corpus: deterministic, sized by triples, like the real article, defects on demand."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.config import load_settings
from toolkit.corpus.generate import DEFECTS, count_triples, iter_corpus, parse_size, write_corpus
from toolkit.validate import validate_sources


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = write_corpus(tmp_path / "a", seed=7, sources=25, defect_rate=0.3)
    b = write_corpus(tmp_path / "b", seed=7, sources=25, defect_rate=0.3)
    c = write_corpus(tmp_path / "c", seed=8, sources=25, defect_rate=0.3)
    assert digest(a.out) == digest(b.out) != digest(c.out)
    assert a.defects == b.defects


def test_sized_by_triples_and_counts_what_the_toolkit_makes(tmp_path: Path) -> None:
    rep = write_corpus(tmp_path / "c", seed=1, triples=parse_size("3k"))
    assert rep.triples >= 3000 and rep.triples < 3000 + 200
    outcome = validate_sources(load_settings(REPO).with_overrides(sources_dir=rep.out))
    assert outcome.report.conforms, outcome.report.to_text()
    assert outcome.graph is not None and len(outcome.graph) == rep.triples


def test_looks_like_the_real_article(tmp_path: Path) -> None:
    """Every class a source can author, relative dates, several types, comments, links across sources."""
    sources = list(iter_corpus(seed=3, sources=60))
    types: Counter[str] = Counter()
    stated = other_source_links = multi_typed = comments = 0
    ids = {e["id"]: s.id for s in sources for e in s.facts["entities"]}
    for s in sources:
        for e in s.facts["entities"]:
            ts = e["type"] if isinstance(e["type"], list) else [e["type"]]
            multi_typed += len(ts) > 1
            types.update(ts)
            comments += "comment" in e
            for k, v in e.items():
                if isinstance(v, dict) and "stated" in v:
                    stated += 1
                refs = v if isinstance(v, list) else [v]
                if k not in ("id", "type", "evidence", "label") and any(
                    isinstance(r, str) and ids.get(r, s.id) != s.id for r in refs
                ):
                    other_source_links += 1
            for quote in e["evidence"]:
                assert quote in s.text  # evidence really occurs in the generated text
        assert count_triples(s.facts) == s.triples
    authored = {"ActionPlan", "Affiliation", "City", "Conference", "Corridor", "Designation", "InnovationCentre"}
    authored |= {"Legislature", "MediaOrganisation", "Meeting", "Person", "PolicyProvision", "ProvinceLevelDivision"}
    authored |= {"PublicBody", "Region", "Statement", "Task", "TechnologyField", "TechnologyFieldScheme"}
    authored |= {"TransportRoute", "ResearchOrganisation"}
    assert authored <= set(types)
    assert stated > 10 and other_source_links > 20 and multi_typed >= 1 and comments >= 3


@pytest.mark.parametrize("kind", DEFECTS)
def test_each_defect_is_found_by_its_validator(tmp_path: Path, kind: str) -> None:
    rep = write_corpus(tmp_path / "c", seed=11, sources=30, defect_rate=0.6, defects=(kind,))
    assert rep.defects[kind] > 0
    report = validate_sources(load_settings(REPO).with_overrides(sources_dir=rep.out)).report
    expected = {
        "missing-label": ("facts-schema", "label"),
        "wrong-date-type": (None, None),
        "quote-not-in-source": ("evidence", "quote not found"),
        "dangling-reference": ("facts", "unknown reference"),
        "period-reversed": ("shacl", "is before"),
        "wrong-class": ("shacl", "sh:ClassConstraintComponent"),
    }[kind]
    assert not report.conforms
    if expected[0] is not None:
        hits = [
            r for r in report.results if r.validator == expected[0] and expected[1] in f"{r.message} {r.constraint}"
        ]
        assert len(hits) >= rep.defects[kind]


def test_cli_generate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_TOOLKIT_ROOT", str(REPO))
    result = CliRunner().invoke(app, ["corpus", "generate", "--sources", "5", "--seed", "7", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "wrote 5 sources" in result.output
    assert len([p for p in (tmp_path / "out").iterdir() if p.is_dir()]) == 5
    bad = CliRunner().invoke(app, ["corpus", "generate", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--sources" in bad.output
