"""A publish killed (SIGKILL) at random moments, then run again, converges to the state an
uninterrupted publish gives, with nothing doubled: for the SPARQL store and for CKAN.

The client process is killed, not the server: the servers are real (Oxigraph from PyPI, the
CKAN of .ci/ckan/start.sh). Kill moments are drawn with a fixed seed over the measured
duration of a full publish, so runs are reproducible in spirit (the machine's timing is not).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
from conftest import Project
from test_ckan import portal_env, portal_lock

from toolkit.publish.release import Release
from toolkit.query.server import OxigraphServer

KILLS = 6


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def kill_at_random(cmd: list[str], env: dict[str, str], rng: random.Random, span: float) -> str:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0, span))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return "killed"
    proc.wait()
    return "finished"


def store_state(srv: OxigraphServer) -> dict[str, list[str]]:
    query = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    resp = httpx.post(srv.query_url, data={"query": query}, headers={"Accept": "text/tab-separated-values"})
    resp.raise_for_status()
    state: dict[str, list[str]] = {}
    for line in resp.text.splitlines()[1:]:
        g, rest = line.split("\t", 1)
        state.setdefault(g, []).append(rest)
    return {g: sorted(rows) for g, rows in state.items()}


def test_sparql_publish_killed_then_rerun_converges(project: Project, real_release: Release, tmp_path: Path) -> None:
    project.seed_release(real_release)
    env = dict(os.environ, POLICY_TOOLKIT_ROOT=str(project.root))
    env.pop("POLICY_TOOLKIT_SPARQL_TOKEN", None)
    with OxigraphServer(tmp_path / "clean") as clean, OxigraphServer(tmp_path / "killed") as killed:
        base = [sys.executable, "-m", "toolkit", "publish", "sparql", "--store"]
        start = time.monotonic()
        assert run([*base, clean.url], env).returncode == 0
        span = time.monotonic() - start
        expected = store_state(clean)
        rng = random.Random(20251212)
        outcomes = [kill_at_random([*base, killed.url], env, rng, span) for _ in range(KILLS)]
        rerun = run([*base, killed.url], env)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        state = store_state(killed)
        assert state == expected, f"kills: {outcomes}"
        for rows in state.values():
            assert len(rows) == len(set(rows))  # nothing doubled
        print(f"sparql publish: {outcomes.count('killed')} killed, {outcomes.count('finished')} finished first")


@pytest.fixture
def portal_turn() -> Iterator[None]:
    """The shared portal, ours alone while the test runs (see test_ckan.portal_lock)."""
    with portal_lock():
        yield


def test_ckan_publish_killed_then_rerun_converges(project: Project, real_release: Release, portal_turn: None) -> None:
    portal = portal_env()
    assert "CKAN_URL" in portal, "no CKAN portal: run `bash .ci/ckan/start.sh` (scripts/test.sh does)"
    project.seed_release(real_release)
    name = f"pt-kill-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, POLICY_TOOLKIT_ROOT=str(project.root), CKAN_API_TOKEN=portal["CKAN_API_TOKEN"])
    cmd = [sys.executable, "-m", "toolkit", "publish", "ckan", "--url", portal["CKAN_URL"], "--org"]
    cmd += [portal["CKAN_ORG"], "--name", name]
    manifest = json.loads((project.release / "manifest.json").read_text(encoding="utf-8"))
    expected = sorted((f["path"], f["sha256"]) for f in manifest["files"] if f["path"] != "manifest.json")
    headers = {"Authorization": portal["CKAN_API_TOKEN"]}
    try:
        # the duration of one full publish into a fresh dataset, measured on a throw-away name
        probe = f"{name}-probe"
        start = time.monotonic()
        assert run([*cmd[:-1], probe], env).returncode == 0
        span = time.monotonic() - start
        rng = random.Random(20250901)
        outcomes = [kill_at_random(cmd, env, rng, span) for _ in range(KILLS)]
        rerun = run(cmd, env)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        pkg = requests.get(
            portal["CKAN_URL"] + "/api/3/action/package_show", params={"id": name}, headers=headers, timeout=30
        ).json()["result"]
        got = sorted((r["name"], r["sha256"]) for r in pkg["resources"])
        assert got == expected, f"kills: {outcomes}"
        search = requests.get(portal["CKAN_URL"] + "/api/3/action/package_list", headers=headers, timeout=30).json()[
            "result"
        ]
        assert search.count(name) == 1  # one dataset, never a second
        print(f"ckan publish: {outcomes.count('killed')} killed, {outcomes.count('finished')} finished first")
    finally:
        for ds in (name, f"{name}-probe"):
            requests.post(
                portal["CKAN_URL"] + "/api/3/action/dataset_purge", json={"id": ds}, headers=headers, timeout=30
            )


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
