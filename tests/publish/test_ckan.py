"""Upload to a real CKAN 2.12 (started by `.ci/ckan/start.sh`, see scripts/test.sh).

Only the search index is a stand-in (.ci/ckan/solr_standin.py): Solr cannot be
installed here. A missing portal is a failure, not a skip: the test command starts it.

The portal under /opt is shared by every clone on the machine, and one test here SIGKILLs
it: the tests that use it hold ``run/portal.lock`` (:func:`portal_lock`), so two test runs
take turns instead of breaking each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import requests
from conftest import REPO, Project
from rdflib import Graph, Literal
from rdflib.namespace import DCAT, DCTERMS, RDF
from test_publish_progress import clean_env, run_in_terminal
from typer.testing import CliRunner

from toolkit.build import build_release
from toolkit.cli import app
from toolkit.errors import ToolkitError
from toolkit.publish.ckan import RetryPolicy, publish_ckan
from toolkit.publish.release import Release

ENV_FILE = Path("/opt/policy-toolkit-ckan/env")
LOCK_FILE = ENV_FILE.parent / "run" / "portal.lock"
LOCK_WAIT = 1800.0  # seconds: another clone's whole portal session
START = REPO / ".ci" / "ckan" / "start.sh"


def release_files() -> int:
    """How many files the committed release lists (one CKAN resource, one distribution each)."""
    return len(json.loads((REPO / "datasets" / "release" / "manifest.json").read_bytes())["files"])


def portal_env() -> dict[str, str]:
    """CKAN_* from the environment, else from the env file start.sh writes."""
    env = {k: v for k, v in os.environ.items() if k.startswith("CKAN_")}
    if ENV_FILE.is_file():
        for line in ENV_FILE.read_text().splitlines():
            if line.startswith("export ") and "=" in line:
                key, _, value = line[len("export ") :].partition("=")
                env.setdefault(key, value.strip("'\""))
    return env


@contextlib.contextmanager
def portal_lock(path: Path = LOCK_FILE, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the machine's portal lock (an exclusive flock, released when the file is closed,
    also when the process dies): the portal is used by one test run at a time."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)  # flock needs only read access
    except OSError as exc:
        pytest.fail(f"cannot open the portal lock {path} ({exc.strerror}); run `bash .ci/ckan/start.sh`")
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another test run has held the CKAN portal lock {path} for {wait:.0f} s")
                time.sleep(0.5)
        yield
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def portal() -> Iterator[dict[str, str]]:
    env = portal_env()
    if "CKAN_URL" not in env or "CKAN_API_TOKEN" not in env:
        pytest.fail("no CKAN portal: run `bash .ci/ckan/start.sh` (scripts/test.sh does)")
    with portal_lock():
        yield _answering(portal_env())  # read again under the lock: a run before may have restarted it


def ckan_pid() -> int:
    """The running CKAN's pid, from the env file start.sh rewrites (never from a sourced, possibly
    stale environment), checked against the process's command line before anyone signals it."""
    pid = 0
    for line in ENV_FILE.read_text().splitlines():
        if line.startswith("export CKAN_PID="):
            pid = int(line.partition("=")[2].strip("'\""))
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        cmdline = ""
    if "/venv/bin/ckan" not in cmdline or " run" not in cmdline:
        pytest.fail(f"pid {pid} from {ENV_FILE} is not the portal's CKAN ({cmdline!r}); run `bash .ci/ckan/start.sh`")
    return pid


def _answering(env: dict[str, str]) -> dict[str, str]:
    try:
        requests.get(env["CKAN_URL"] + "/api/3/action/status_show", timeout=10).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"CKAN at {env['CKAN_URL']} does not answer ({exc}); run `bash .ci/ckan/start.sh`")
    return env


@pytest.fixture
def released(project: Project, real_release: Release, portal: dict[str, str], monkeypatch) -> Project:
    project.seed_release(real_release)
    monkeypatch.setenv("CKAN_API_TOKEN", portal["CKAN_API_TOKEN"])
    return project


@pytest.fixture
def name(portal: dict[str, str]) -> Iterator[str]:
    dataset = f"pt-test-{uuid.uuid4().hex[:10]}"
    yield dataset
    with contextlib.suppress(requests.RequestException):
        requests.post(
            portal["CKAN_URL"] + "/api/3/action/dataset_purge",
            json={"id": dataset},
            headers={"Authorization": portal["CKAN_API_TOKEN"]},
            timeout=30,
        )


def show(portal: dict[str, str], dataset: str) -> dict:
    r = requests.get(
        portal["CKAN_URL"] + "/api/3/action/package_show",
        params={"id": dataset},
        headers={"Authorization": portal["CKAN_API_TOKEN"]},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()["result"]


def resources(pkg: dict) -> dict[str, dict]:
    return {r["name"]: r for r in pkg["resources"]}


def test_first_upload_then_unchanged_rerun(released: Project, portal: dict[str, str], name: str) -> None:
    settings = released.settings
    first = publish_ckan(settings, portal["CKAN_URL"], portal["CKAN_ORG"], name=name)
    manifest_files = {f["path"]: f["sha256"] for f in released_manifest(released)}
    assert first.dataset_action == "create" and first.verified is True
    assert {s.path for s in first.steps if s.action == "create"} == set(manifest_files) - {"manifest.json"}
    before = show(portal, name)
    assert before["license_id"] == "cc-by" and before["organization"]["name"] == portal["CKAN_ORG"]
    extras = {e["key"]: e["value"] for e in before["extras"]}
    assert extras["uri"] == settings.base_iri + "dataset/release"
    for res in before["resources"]:
        assert res["sha256"] == manifest_files[res["name"]] and res["url_type"] == "upload"

    second = publish_ckan(settings, portal["CKAN_URL"], portal["CKAN_ORG"], name=name)
    assert second.dataset_action == "unchanged"
    assert {s.action for s in second.steps} == {"unchanged"}
    after = show(portal, name)
    assert after["metadata_modified"] == before["metadata_modified"]
    for rname, res in resources(after).items():
        old = resources(before)[rname]
        assert (res["id"], res["metadata_modified"], res["last_modified"]) == (
            old["id"],
            old["metadata_modified"],
            old["last_modified"],
        )


def released_manifest(project: Project) -> list[dict]:
    return json.loads((project.release / "manifest.json").read_text(encoding="utf-8"))["files"]


def test_changed_files_replace_only_their_resources(released: Project, portal: dict[str, str], name: str) -> None:
    settings = released.settings
    publish_ckan(settings, portal["CKAN_URL"], portal["CKAN_ORG"], name=name)
    before = resources(show(portal, name))
    old = {f["path"]: f["sha256"] for f in released_manifest(released)}
    released.edit_facts("label: {zh: 金华, en: Jinhua}", "label: {zh: 金华, en: Jinhua City}")
    build_release(settings)
    new = {f["path"]: f["sha256"] for f in released_manifest(released)}
    changed = {p for p in new if new[p] != old.get(p)} - {"manifest.json"}
    assert "csv/places.csv" in changed and "csv/people.csv" not in changed

    dry = publish_ckan(settings, portal["CKAN_URL"], portal["CKAN_ORG"], name=name, dry_run=True)
    assert {s.path for s in dry.steps if s.action == "update"} == changed
    assert resources(show(portal, name)) == before  # the dry run changed nothing

    report = publish_ckan(settings, portal["CKAN_URL"], portal["CKAN_ORG"], name=name)
    assert report.verified is True
    assert {s.path for s in report.steps if s.action == "update"} == changed
    after = resources(show(portal, name))
    assert set(after) == set(before)  # no duplicates, nothing lost
    for path, res in after.items():
        assert res["id"] == before[path]["id"]
        if path in changed:
            assert res["sha256"] == new[path] and res["last_modified"] != before[path]["last_modified"]
        else:
            assert res["metadata_modified"] == before[path]["metadata_modified"]


def test_cli_dry_run_and_wrong_token(released: Project, portal: dict[str, str], name: str, monkeypatch) -> None:
    runner = CliRunner()
    args = ["publish", "ckan", "--url", portal["CKAN_URL"], "--org", portal["CKAN_ORG"], "--name", name]
    result = runner.invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "plan (dry run, nothing changed)" in result.output and "create    policy.ttl" in result.output
    assert f"the portal answers at {portal['CKAN_URL']} (CKAN 2.12" in result.output
    assert f"the API token in CKAN_API_TOKEN is accepted (user {portal['CKAN_SYSADMIN']})" in result.output
    assert f"organisation '{portal['CKAN_ORG']}' exists" in result.output
    assert f"may create and update datasets in '{portal['CKAN_ORG']}'" in result.output
    assert (
        requests.get(portal["CKAN_URL"] + "/api/3/action/package_show", params={"id": name}, timeout=30).status_code
        == 404
    )
    monkeypatch.setenv("CKAN_API_TOKEN", "not-a-valid-token-" + uuid.uuid4().hex)
    for extra in (["--dry-run"], []):  # a dry run checks the token too, and fails before the plan
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 1, result.output
        assert "the portal refused the API token in CKAN_API_TOKEN" in result.output and "plan" not in result.output
        assert portal["CKAN_API_TOKEN"] not in result.output and "not-a-valid-token" not in result.output
    monkeypatch.setenv("CKAN_API_TOKEN", portal["CKAN_API_TOKEN"])
    other = "no-such-organisation-" + uuid.uuid4().hex[:6]
    for extra in (["--dry-run"], []):
        result = runner.invoke(app, [*args[:4], "--org", other, "--name", name, *extra])
        assert result.exit_code == 1 and f"unknown organisation {other!r}" in result.output
    monkeypatch.delenv("CKAN_API_TOKEN")
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "set the environment variable CKAN_API_TOKEN" in result.output
    # without a token a dry run still works, read-only, as an anonymous visitor
    result = runner.invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "no token in CKAN_API_TOKEN: read as an anonymous visitor" in result.output
    assert "create    policy.ttl" in result.output


def test_a_url_that_is_not_a_ckan_portal(released: Project, portal: dict[str, str]) -> None:
    with pytest.raises(ToolkitError, match=r"does not answer as a CKAN portal") as info:
        publish_ckan(released.settings, portal["CKAN_URL"] + "/no/such/path", portal["CKAN_ORG"], dry_run=True)
    assert "check the URL" in str(info.value)


def test_cli_shows_progress_then_the_portal_serves_our_dcat(
    released: Project, portal: dict[str, str], name: str
) -> None:
    """Published from the command line with standard error on a pseudo-terminal: a bar counts the
    files as they are uploaded, standard output holds the report; then the portal's DCAT
    endpoint describes the dataset (one upload serves both checks: an upload costs ~15 s)."""
    env = clean_env(POLICY_TOOLKIT_ROOT=str(released.root), CKAN_API_TOKEN=portal["CKAN_API_TOKEN"])
    cmd = [sys.executable, "-m", "toolkit", "publish", "ckan", "--url", portal["CKAN_URL"]]
    code, out, terminal = run_in_terminal([*cmd, "--org", portal["CKAN_ORG"], "--name", name], env)
    assert code == 0, out + terminal
    assert "uploading files" in terminal and f"/{release_files()}" in terminal  # every file, counted as they go
    assert "verified:" in out and "uploading files" not in out

    r = requests.get(f"{portal['CKAN_URL']}/dataset/{name}.ttl", timeout=30)
    assert r.status_code == 200 and "turtle" in r.headers["Content-Type"]
    g = Graph().parse(data=r.text, format="turtle")
    datasets = list(g.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 1
    assert (datasets[0], DCTERMS.title, Literal("Policy news facts dataset 1.0.0")) in g
    assert len(list(g.objects(datasets[0], DCAT.distribution))) == release_files()


def test_connection_errors_are_retried_then_reported(released: Project, portal: dict[str, str]) -> None:
    """A closed port on 127.0.0.1 (a real refused connection): retried with backoff, then a clear error."""
    delays: list[float] = []
    policy = RetryPolicy(attempts=3, first_delay=0.1, sleep=delays.append)
    with pytest.raises(ToolkitError) as info:
        publish_ckan(released.settings, "http://127.0.0.1:9", "org", name="x", retry=policy)
    assert delays == [0.1, 0.2]
    text = str(info.value)
    assert "status_show: cannot reach the portal at http://127.0.0.1:9: the connection was refused (3 attempts)" in text
    assert "check the URL (--url), its port, and that the portal is running" in text


class FlakyPortal(BaseHTTPRequestHandler):
    """Stand-in for a portal's failure modes, which the real CKAN cannot be made to produce on demand:
    answers `status` to the first `fail` requests, then CKAN's status_show, then CKAN's JSON for
    "not found" (which user_show gives for a token it does not know)."""

    status = 503
    fail = 2
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        FlakyPortal.seen.append(self.path)
        if len(FlakyPortal.seen) <= FlakyPortal.fail:
            body = b'{"success": false, "error": {"message": "down"}}'
            self.send_response(FlakyPortal.status)
        elif self.path.endswith("/status_show"):
            body = b'{"success": true, "result": {"ckan_version": "2.12.0"}}'
            self.send_response(200)
        else:
            body = b'{"success": false, "error": {"__type": "Not Found Error", "message": "Not found"}}'
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "retried"), [(503, True), (500, True), (400, False)])
def test_5xx_retried_4xx_not_with_a_stand_in_portal(released: Project, status: int, retried: bool) -> None:
    """Stand-in HTTP server (see FlakyPortal): 5xx is retried with backoff, 4xx fails at once."""
    FlakyPortal.status, FlakyPortal.fail, FlakyPortal.seen = status, 2, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyPortal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    delays: list[float] = []
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(ToolkitError) as info:
            publish_ckan(released.settings, url, "org", name="x", retry=RetryPolicy(sleep=delays.append))
    finally:
        server.shutdown()
        server.server_close()
    if retried:
        # two 5xx, then the third attempt answers; the token check that follows finds no user
        assert delays == [0.5, 1.0] and FlakyPortal.seen[:4] == ["/api/action/status_show"] * 3 + [
            "/api/action/user_show"
        ]
        assert "the portal refused the API token" in str(info.value)
    else:
        assert delays == [] and len(FlakyPortal.seen) == 1
        assert f"HTTP {status}" in str(info.value)


def test_portal_killed_mid_upload_then_rerun_completes(released: Project, portal: dict[str, str], name: str) -> None:
    """SIGKILL the real CKAN while a publish runs; the error is clear, and after a restart a
    rerun completes with every resource exactly once."""
    env = dict(os.environ, POLICY_TOOLKIT_ROOT=str(released.root), CKAN_API_TOKEN=portal["CKAN_API_TOKEN"])
    cmd = [
        sys.executable,
        "-m",
        "toolkit",
        "publish",
        "ckan",
        "--url",
        portal["CKAN_URL"],
        "--org",
        portal["CKAN_ORG"],
        "--name",
        name,
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = requests.get(portal["CKAN_URL"] + "/api/3/action/package_show", params={"id": name}, timeout=10)
            if r.status_code == 200 and len(r.json()["result"]["resources"]) >= 3:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the upload never started")
        os.kill(ckan_pid(), signal.SIGKILL)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        # this test holds the portal lock (see `portal`), so start.sh must not wait for it
        restart_env = dict(os.environ, CKAN_PORTAL_LOCK_HELD="1")
        subprocess.run(["bash", str(START)], check=True, capture_output=True, timeout=300, env=restart_env)
    assert proc.returncode == 1, out
    assert "cannot reach the portal" in out and "run the command again" in out
    assert "Traceback" not in out
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "verified" in rerun.stdout
    names = [r["name"] for r in show(portal, name)["resources"]]
    assert len(names) == len(set(names)) == release_files()
