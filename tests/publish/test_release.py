import json

import pytest
from conftest import FIXTURES, Project

from toolkit.build import build_release
from toolkit.errors import DataError, ReleaseMismatch
from toolkit.publish import release_info
from toolkit.publish.release import Release, sha256


def test_manifest_lists_every_file_with_its_checksum(real_release: Release) -> None:
    manifest = json.loads(real_release.files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(real_release.files) - {"manifest.json"}
    for path, entry in listed.items():
        assert entry["sha256"] == sha256(real_release.files[path])
        assert entry["bytes"] == len(real_release.files[path])
    assert manifest["validation"]["conforms"] is True
    assert manifest["triples"] == len(real_release.graph)
    assert "000_f8b5f49c4e14440d.txt" not in " ".join(listed)  # the article text is not published


def test_build_writes_then_check_passes_and_then_detects_a_change(project: Project) -> None:
    first = build_release(project.settings)
    assert first.changed and (project.release / "policy.ttl").is_file()
    assert build_release(project.settings, check=True).changed == []
    (project.release / "csv" / "places.csv").write_text("tampered", encoding="utf-8")
    with pytest.raises(ReleaseMismatch, match=r"differs: csv/places\.csv"):
        build_release(project.settings, check=True)
    info = release_info(project.settings)
    bad = [f["path"] for f in info["files"] if not f["verified"]]
    assert bad == ["csv/places.csv"]


def test_invalid_sources_leave_the_release_untouched(project: Project) -> None:
    build_release(project.settings)
    before = project.tree_digest()
    project.edit_facts("validUntil: {stated: 2022-2025年}", 'validUntil: "2021"')
    with pytest.raises(DataError) as info:
        build_release(project.settings)
    assert info.value.report is not None and not info.value.report.conforms
    assert project.tree_digest() == before


def test_second_source_is_released_beside_the_first(project: Project) -> None:
    project.add_source(FIXTURES / "sources" / "second-source")
    rel = build_release(project.settings)
    manifest = rel.manifest
    assert [s["id"] for s in manifest["sources"]] == ["cls-2025-12-yrd-innovation-centre", "test-second-source"]
    documents = (project.release / "csv" / "documents.csv").read_text(encoding="utf-8")
    assert "demonstration-zone-ai-measures" in documents
    assert manifest["counts_by_class"]["PolicyMeasures"] == 2
