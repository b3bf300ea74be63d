"""End-to-end CLI tests with Typer's runner: exit codes, messages, and nothing half-written."""

from __future__ import annotations

import importlib.metadata
import itertools
import json
from typing import Any

import pytest
import typer
from conftest import ARTICLE_ID, Project
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.validate import VALIDATORS

runner = CliRunner()
FACTS_REL = f"datasets/sources/{ARTICLE_ID}/facts.yaml"


def invoke(*args: str):
    return runner.invoke(app, list(args))


def line_of(project: Project, needle: str) -> int:
    for i, text in enumerate(project.facts.read_text(encoding="utf-8").splitlines(), 1):
        if needle in text:
            return i
    raise AssertionError(needle)


def test_build_validate_info_on_the_real_article(project: Project) -> None:
    result = invoke("build")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "triples" in result.output
    assert invoke("build", "--check").exit_code == 0
    assert invoke("build", "--naive").exit_code == 2  # the whole-graph path is the tests' oracle, not an option
    result = invoke("validate")
    assert result.exit_code == 0
    assert "Validation conforms: 0 violation(s)" in result.output
    result = invoke("info")
    assert result.exit_code == 0
    assert "RegionalLegislation" in result.output and ARTICLE_ID in result.output
    data = json.loads(invoke("info", "--format", "json").output)
    assert all(f["verified"] for f in data["files"])


def test_validate_json_and_turtle_formats(project: Project) -> None:
    doc = json.loads(invoke("validate", "--format", "json").output)
    assert doc["conforms"] is True and doc["validators"] == [
        "facts-schema",
        "facts",
        "evidence",
        "shacl",
        "inferences",
        "output-schema",
        "dcat-ap",
    ]
    out = invoke("validate", "--format", "turtle").output
    assert "sh:conforms true" in out


def test_validate_a_given_rdf_file(project: Project, real_release, tmp_path) -> None:
    project.seed_release(real_release)
    assert invoke("validate", str(project.release / "policy.ttl")).exit_code == 0
    broken = tmp_path / "broken.ttl"
    broken.write_text(
        (project.release / "policy.ttl").read_text(encoding="utf-8").replace('"Jinhua"@en', '"Jinhua"@fr'),
        encoding="utf-8",
    )
    result = invoke("validate", str(broken))
    assert result.exit_code == 1
    assert "focus: https://w3id.org/policy-toolkit/id/jinhua (金华)" in result.output


BAD_INPUTS = [
    # (name, old, new, exit code, expected message fragment, line needle)
    ("broken YAML", "  - id: jinhua\n", "  - id: jinhua\n   type: [City\n", 2, "broken YAML", None),
    (
        "unknown reference",
        "    follows: shanghai-kunming-expressway\n",
        "    follows: shanghai-kunming-expresway\n",
        1,
        "unknown reference 'shanghai-kunming-expresway' in follows; did you mean 'shanghai-kunming-expressway'?",
        "shanghai-kunming-expresway",
    ),
    (
        "quote not in source",
        "      - '这条沿着沪昆高速延伸的走廊'\n",
        "      - '这条沿着京沪高速延伸的走廊'\n",
        1,
        "quote not found in the body of 000_f8b5f49c4e14440d.txt; closest passage: '这条沿着沪昆高速延伸的走廊",
        "京沪高速",
    ),
    (
        "impossible date",
        'dateIssued: "2022-08"',
        'dateIssued: "2022-02-30"',
        1,
        "dateIssued: '2022-02-30' is not a real calendar date",
        "2022-02-30",
    ),
    (
        "duplicate identifier",
        "  - id: jinhua\n",
        "  - id: suzhou\n",
        1,
        "duplicate id 'suzhou' in datasets/sources/cls-2025-12-yrd-innovation-centre/facts.yaml: already defined at",
        None,
    ),
    (
        "IRI with spaces",
        "  - id: g60-corridor\n",
        "  - id: g60 corridor\n",
        1,
        "'g60 corridor' is not valid; expected an identifier: lower-case letters, digits and single hyphens",
        "g60 corridor",
    ),
    (
        "unknown key",
        "    linksCity: [shanghai",
        "    linkCity: [shanghai",
        1,
        "unknown key 'linkCity' at entities/17; did you mean 'linksCity'?",
        "linkCity",
    ),
    (
        "period ends before it starts",
        "validUntil: {stated: 2022-2025年}",
        'validUntil: "2021"',
        1,
        "validUntil (2021) is before validFrom (2022)",
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "code", "message", "needle"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_reported_and_nothing_changes(
    project: Project, real_release, name: str, old: str, new: str, code: int, message: str, needle: str | None
) -> None:
    project.seed_release(real_release)
    assert invoke("build", "--check").exit_code == 0
    before = project.tree_digest()
    project.edit_facts(old, new)
    for command in ("validate", "build"):
        result = invoke(command)
        assert result.exit_code == code, (command, result.output)
        assert message in result.output, result.output
        assert FACTS_REL in result.output
        if needle:
            assert f"{FACTS_REL}:{line_of(project, needle)}" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
    assert project.tree_digest() == before


def test_not_utf8_is_exit_2_with_byte_offset(project: Project) -> None:
    raw = project.facts.read_bytes()
    pos = raw.index("金华".encode())
    project.facts.write_bytes(raw[:pos] + b"\xff\xfe" + raw[pos + 6 :])
    result = invoke("validate")
    assert result.exit_code == 2
    assert f"not valid UTF-8: byte 0xff at byte offset {pos}" in result.output


def test_bad_base_iri_is_a_usage_error(project: Project) -> None:
    result = invoke("build", "--base-iri", "https://example.org/a b/")
    assert result.exit_code == 2
    assert "is not a valid http(s) IRI" in result.output


def test_missing_sources_folder_is_exit_2(project: Project, tmp_path) -> None:
    result = invoke("validate", "--sources", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "sources folder does not exist" in result.output


def test_info_without_a_release_is_exit_2(project: Project) -> None:
    result = invoke("info")
    assert result.exit_code == 2 and "no release here yet" in result.output


def test_schema_check_detects_drift(project: Project) -> None:
    assert invoke("schema").exit_code == 0
    shapes = project.root / "schema" / "shapes.ttl"
    shapes.write_text(shapes.read_text(encoding="utf-8") + "\n# hand edit\n", encoding="utf-8")
    result = invoke("schema")
    assert result.exit_code == 1 and "shapes.ttl" in result.output
    result = invoke("validate")  # checks against stale shapes would mean nothing
    assert result.exit_code == 1
    assert "out of date with model.yaml: schema/shapes.ttl; run `policy-toolkit schema --write`" in result.output
    assert invoke("schema", "--write").exit_code == 0
    assert invoke("schema").exit_code == 0
    assert invoke("validate").exit_code == 0


def test_help_documents_exit_codes() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Exit codes: 0 valid" in result.output


def test_version_is_the_installed_package_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"policy-toolkit {importlib.metadata.version('policy-toolkit')}\n"


def test_info_and_validate_list_the_same_validators(project: Project, real_release) -> None:
    project.seed_release(real_release)  # what `build` writes
    released = json.loads(invoke("info", "--format", "json").output)["validation"]["validators"]
    validated = json.loads(invoke("validate", "--format", "json").output)["validators"]
    assert released == validated == [v.name for v in VALIDATORS]
    # and `validate` runs the release checks on the files on disk, as `build` on those it makes
    table = project.release / "csv" / "initiatives.csv"
    table.write_bytes(table.read_bytes().replace(b",24,true,", b",24,yes,"))
    result = invoke("validate")
    assert result.exit_code == 1
    assert "datasets/release/csv/initiatives.csv:7: [Violation] output-schema" in result.output


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        paths += _command_paths(sub, (*prefix, name))
    return paths


def premature_breaks(text: str, width: int) -> list[str]:
    """Lines of a rich help screen that end although the next line's first word would fit.

    Prose is indented by one space; in a box (options, commands) the wrapped column is where a
    continuation row starts. typer's own ``[default: ...]`` / ``[required]`` go on a line of
    their own, so a next word starting with ``[`` is not a break.
    """
    lines = [line.rstrip() for line in text.splitlines()]
    found = []
    for above, below in itertools.pairwise(lines):
        if not above.strip() or not below.strip() or above.lstrip().startswith("Usage:"):
            continue
        if below.startswith("│") and above.startswith("│"):
            inner = below[1:].rstrip("│").rstrip()
            start = len(inner) - len(inner.lstrip())
            if start == 0 or not above[1 : 1 + start].strip():
                continue  # a new row, or a row whose first columns are empty too
            room = width - 2 - start - 1  # borders and the cell's right padding
            said = above[1 + start :].rstrip("│").rstrip()
        elif below.startswith(" ") and above.startswith(" ") and not below.startswith("  "):
            room, said = width - 2, above.strip()
        else:
            continue
        word = below.strip("│ ").split()[0]
        if not word.startswith("[") and len(said) + 1 + len(word) <= room:
            found.append(f"{above.strip()!r} / {below.strip()!r}")
    return found


def test_help_texts_wrap_whole_sentences() -> None:
    width = 80
    paths = _command_paths(typer.main.get_command(app))
    assert ("build",) in paths and ("publish", "sparql") in paths and len(paths) > 10
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(width)})
        assert result.exit_code == 0, (path, result.output)
        assert max(len(line) for line in result.output.splitlines()) <= width
        assert premature_breaks(result.output, width) == [], (path, result.output)


def test_one_validate_run_lists_format_and_shape_problems_of_one_file(project: Project, real_release) -> None:
    """Issue 13: a facts file with a format problem in one entry (an unknown key) and a shape
    problem in another (a period ending before it starts) gets both in one `validate` run, each
    at its line; the entries referring to the one not loaded add nothing (their sh:class
    results restate the format problem); `build` still refuses and writes nothing."""
    project.seed_release(real_release)
    assert invoke("build", "--check").exit_code == 0
    before = project.tree_digest()
    project.edit_facts("  - id: yangtze-river-delta\n", "  - id: yangtze-river-delta\n    colour: red\n")
    project.edit_facts(
        "    validFrom: {stated: 2022-2025年}\n    validUntil: {stated: 2022-2025年}\n",
        '    validFrom: "2022"\n    validUntil: "2021"\n',
    )
    result = invoke("validate")
    assert result.exit_code == 1, result.output
    assert f"{FACTS_REL}:{line_of(project, 'colour: red')}: [Violation] facts-schema" in result.output
    until = line_of(project, 'validUntil: "2021"')
    assert f"{FACTS_REL}:{until}: [Violation] shacl" in result.output
    assert "validUntil (2021) is before validFrom (2022)" in result.output
    assert "2 violation(s)" in result.output, result.output
    assert invoke("build").exit_code == 1
    assert project.tree_digest() == before


def test_build_says_what_it_wrote_not_what_the_old_release_lacked(project: Project) -> None:
    """A first build is "a new release" (not 35 lines of "missing from the release"); a later
    one names each file it changed as changed, a file it added as new."""
    first = invoke("build")
    assert first.exit_code == 0 and "a new release" in first.output and "missing" not in first.output, first.output
    project.edit_facts("en: Yangtze River Delta S&T Innovation Community", "en: YRD S&T Innovation Community")
    (project.release / "policy.trig").unlink()
    second = invoke("build")
    lines = second.output.splitlines()
    assert second.exit_code == 0 and "  changed: policy.ttl" in lines and "  new: policy.trig" in lines, second.output
    assert "a new release" not in second.output and "missing" not in second.output
