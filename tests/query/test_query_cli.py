"""`policy-toolkit query` and `serve` from the outside: exit codes, messages, output formats."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import REPO
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.config import Settings
from toolkit.graph.iris import named_graph as graph_iri
from toolkit.query import saved_queries

runner = CliRunner()
CLI = Path(sys.executable).parent / "policy-toolkit"


@pytest.fixture(scope="module")
def release_dir(real_release_dir: Path) -> Path:
    return real_release_dir


def invoke(release_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["query", *args, "--release", str(release_dir)])


def test_a_saved_query_by_name_prints_a_table(release_dir: Path) -> None:
    result = invoke(release_dir, "g60-cities")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["city", "city_zh", "city_en", "route_zh"]
    assert any(line.startswith("id:hangzhou") and "杭州" in line and "沪昆高速" in line for line in lines)
    assert lines[-1] == "(5 rows)"


def test_parameters_and_csv(release_dir: Path, repo_settings: Settings) -> None:
    result = invoke(release_dir, "policies-in-force", "--param", "date=2025-12-31", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {r["document"] for r in rows} == {
        repo_settings.base_iri + "yrd-st-coordination-decision",
        repo_settings.base_iri + "yrd-innovation-community-action-plan",
    }
    result = invoke(release_dir, "policies-in-force", "-p", "date=2026-01-01", "--format", "tsv")
    assert result.exit_code == 0 and result.output.count("\n") == 2  # header and the decision


def test_any_rq_file_as_json(release_dir: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my.rq"
    mine.write_text(
        "# counts per class\nSELECT ?class (COUNT(?x) AS ?n) WHERE { ?x a ?class } GROUP BY ?class ORDER BY ?class\n",
        encoding="utf-8",
    )
    result = invoke(release_dir, str(mine), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    counts = {b["class"]["value"].rsplit("#", 1)[-1]: int(b["n"]["value"]) for b in doc["results"]["bindings"]}
    assert counts["InnovationCentre"] == 3


def test_a_hostile_parameter_is_a_literal_on_the_command_line(release_dir: Path, tmp_path: Path) -> None:
    mine = tmp_path / "echo.rq"
    mine.write_text("SELECT ?v WHERE { }\n", encoding="utf-8")
    hostile = '"} ; DROP ALL ; SELECT * {'
    result = invoke(release_dir, str(mine), "--param", f"v={hostile}", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"]["bindings"] == [{"v": {"type": "literal", "value": hostile}}]
    result = invoke(release_dir, "facts-with-evidence", "--param", f"contains={hostile}")
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "(0 rows)"


def test_ask_and_describe(release_dir: Path) -> None:
    result = invoke(release_dir, "in-force-on", "-p", "document=yrd-st-coordination-decision", "-p", "date=2025-09-01")
    assert (result.exit_code, result.output) == (0, "true\n")
    result = invoke(release_dir, "in-force-on", "-p", "document=yrd-st-coordination-decision", "-p", "date=2025-08-31")
    assert (result.exit_code, result.output) == (0, "false\n")
    result = invoke(release_dir, "describe", "-p", "resource=shanghai-yrd-centre")
    assert result.exit_code == 0 and "@prefix" in result.output and "id:shanghai-yrd-centre" in result.output
    result = invoke(release_dir, "describe", "-p", "resource=shanghai-yrd-centre", "--format", "csv")
    assert result.exit_code == 2 and "--format csv is for SELECT and ASK results" in result.output


def test_the_list_shows_every_saved_query(release_dir: Path) -> None:
    result = invoke(release_dir, "--list")
    assert result.exit_code == 0, result.output
    for q in saved_queries(REPO / "queries"):
        line = next(x for x in result.output.splitlines() if x.startswith(q.name + " "))
        assert line.split(None, 1)[1] == f"{q.title['zh']} / {q.title['en']}"
        for p in q.params:
            assert f"--param {p.name}=<{p.type}>" in result.output


def test_an_unknown_saved_query_exits_2_and_lists_the_names(release_dir: Path) -> None:
    result = invoke(release_dir, "g60-citys")
    assert result.exit_code == 2
    assert "no saved query called 'g60-citys'" in result.output
    for q in saved_queries(REPO / "queries"):
        assert q.name in result.output


def test_a_syntax_error_exits_2_with_line_and_column(release_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?x WHERE {\n  ?x ?y ?z .\n}\nLIMIT x\n", encoding="utf-8")
    result = invoke(release_dir, str(bad))
    assert result.exit_code == 2
    assert f"{bad}:4:" in result.output and "line 4, column 7" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["policies-in-force"], "missing --param date"),
        (["policies-in-force", "-p", "date=yesterday"], "is not a date"),
        (["policies-in-force", "-p", "date"], "is not NAME=VALUE"),
        (["policies-in-force", "-p", "day=2025-12-31"], "unknown parameter 'day'"),
        (["g60-cities", "--format", "yaml"], "--format 'yaml'"),
        (["who-said-what", "-p", "speaker=chen-xain"], "did you mean chen-xian"),
        ([], "name a saved query or a .rq file"),
        (["missing.rq"], "no such query file"),
    ],
)
def test_usage_errors_exit_2(release_dir: Path, args: list[str], message: str) -> None:
    result = invoke(release_dir, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_no_release_exits_2(tmp_path: Path) -> None:
    result = invoke(tmp_path, "g60-cities")
    assert result.exit_code == 2 and "no release here yet" in result.output


# ---------------------------------------------------------------- serve


def test_serve_runs_a_read_only_endpoint_and_cleans_up(release_dir: Path, repo_settings: Settings) -> None:
    proc = subprocess.Popen(
        [str(CLI), "serve", "--port", "0", "--no-site", "--release", str(release_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "POLICY_TOOLKIT_ROOT": str(REPO)},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("SPARQL endpoint: http://127.0.0.1:"), first + (
            proc.stderr.read() if proc.poll() else ""
        )
        query_url = first.split()[2]
        location = Path(proc.stdout.readline().split(" from ")[1].split(";")[0])
        assert location.is_dir()
        # a saved query over HTTP gives the embedded engine's answer
        text = (REPO / "queries" / "g60-cities.rq").read_text(encoding="utf-8")
        text = text.replace("WHERE {", f"WHERE {{ VALUES ?corridor {{ <{repo_settings.base_iri}g60-corridor> }}", 1)
        resp = httpx.post(query_url, data={"query": text}, headers={"Accept": "application/sparql-results+json"})
        assert resp.status_code == 200
        cities = [b["city_zh"]["value"] for b in resp.json()["results"]["bindings"]]
        embedded = runner.invoke(app, ["query", "g60-cities", "--format", "json", "--release", str(release_dir)])
        assert cities == [b["city_zh"]["value"] for b in json.loads(embedded.output)["results"]["bindings"]]
        # every named graph of the release is there, whole
        count = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        resp = httpx.post(query_url, data={"query": count}, headers={"Accept": "application/sparql-results+json"})
        counts = {b["g"]["value"]: int(b["n"]["value"]) for b in resp.json()["results"]["bindings"]}
        expected: dict[str, int] = {}
        for q in ox.parse(path=release_dir / "policy.nq", format=ox.RdfFormat.N_QUADS):
            expected[q.graph_name.value] = expected.get(q.graph_name.value, 0) + 1
        assert counts == expected and graph_iri(repo_settings.base_iri, "ontology") in counts
        # read-only: the Graph Store refuses writes
        store_url = query_url.rsplit("/", 1)[0] + "/store"
        put = httpx.put(
            store_url,
            params={"graph": "http://example.org/g"},
            content=b"<http://a> <http://b> <http://c> .",
            headers={"Content-Type": "application/n-triples"},
        )
        assert put.status_code == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert not location.exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(query_url.rsplit("/", 1)[0] + "/", timeout=2)


def test_serve_on_a_busy_port_exits_2(release_dir: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port), "--no-site", "--release", str(release_dir)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is in use" in result.output
