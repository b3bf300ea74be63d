"""`build` never destroys what a user points it at (issue 10, data loss).

* ``--release DIR`` replaces only a folder the toolkit made (its marker, or a committed release
  whose manifest.json lists exactly its files with their SHA-256); any other existing non-empty
  path is refused with exit 2, one paragraph, and is left byte for byte as it was;
* only the toolkit's own staging folders (their name *and* its marker) are cleaned: a user's
  ``datasets/.release-backup/`` survives every build;
* two builds at once are serialised by a lock: the release is whole afterwards and
  ``build --check`` is honest; ``--check`` reads the real bytes and ``build`` repairs a damaged
  release;
* Ctrl-C gives one line and exit 130; a full disk one line "no space left on ..." and exit 2,
  the previous release intact.
"""

from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, Project
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.publish import assemble, atomic

runner = CliRunner()
OLD_LABEL = "label: {zh: 财联社, en: Cailian Press}"


def invoke(*args: str):
    return runner.invoke(app, list(args))


def digest(path: Path) -> dict[str, str]:
    """Every entry under ``path`` (hidden ones too; a file: itself) with the SHA-256 of its bytes."""
    if path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    out = {}
    for p in sorted(path.rglob("*")):
        rel = str(p.relative_to(path))
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


def committed_release(project: Project) -> None:
    """The repository's committed release, copied as git checks it out (no marker of the toolkit)."""
    shutil.copytree(REPO / "datasets" / "release", project.release)
    assert not (project.release / atomic.MARKER).exists()


def valid_release(release: Path) -> dict[str, object]:
    """The release is whole: its manifest lists exactly the files present, each with its SHA-256."""
    manifest = json.loads((release / "manifest.json").read_bytes())
    listed = {f["path"]: f for f in manifest["files"]}
    present = set(atomic.read_tree(release)) - {"manifest.json"}
    assert present == set(listed), sorted(present ^ set(listed))
    for rel, entry in listed.items():
        data = (release / rel).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"]), rel
    return manifest


# ------------------------------------------------------------------- what --release may replace


def _user_folder(base: Path) -> Path:
    d = base / "mine"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("x\n", encoding="utf-8")
    (d / "sub" / "notes.md").write_text("keep me\n", encoding="utf-8")
    return d


def _home(base: Path) -> Path:
    d = base / "home"
    (d / ".ssh").mkdir(parents=True)
    (d / ".ssh" / "id_ed25519").write_bytes(b"secret")
    (d / ".bashrc").write_text("alias ll='ls -l'\n", encoding="utf-8")
    return d


def _a_file(base: Path) -> Path:
    base.mkdir(parents=True)
    f = base / "report.pdf"
    f.write_bytes(b"%PDF-1.7 not a folder")
    return f


def _manifest_plus_a_user_file(base: Path) -> Path:
    """A release folder someone put their own file into: not all of it is the toolkit's."""
    d = base / "rel"
    shutil.copytree(REPO / "datasets" / "release", d)
    (d / "my-analysis.xlsx").write_bytes(b"PK\x03\x04 mine")
    return d


@pytest.mark.parametrize(
    "make", [_user_folder, _home, _a_file, _manifest_plus_a_user_file], ids=["user", "home", "file", "extra"]
)
def test_a_path_the_toolkit_did_not_make_is_refused_and_left_byte_identical(
    project: Project, tmp_path: Path, make
) -> None:
    target = make(tmp_path / "outside")
    before, siblings = digest(target), sorted(os.listdir(target.parent))
    result = invoke("build", "--release", str(target))
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert text.startswith(f"error: refusing to use {target} as the release folder: ")
    assert "\n" not in text and "Traceback" not in text  # one paragraph, no traceback
    assert "nothing was changed" in text and "Give --release a new or empty folder" in text
    assert digest(target) == before
    assert sorted(os.listdir(target.parent)) == siblings  # no staging folder, no lock file beside it


def test_the_sources_and_the_root_are_refused_without_walking(project: Project, monkeypatch) -> None:
    """`--release datasets` (the sources inside) and `--release /`: refused before anything is walked."""
    before = digest(project.root / "datasets")

    def no_walk(*args, **kw):
        raise AssertionError("the toolkit walked a folder it was refusing")

    monkeypatch.setattr(os, "walk", no_walk)
    monkeypatch.setattr(Path, "rglob", no_walk)
    for target in (str(project.root / "datasets"), "/"):
        result = invoke("build", "--release", target)
        assert result.exit_code == 2, result.output
        assert "is not a release made by policy-toolkit" in result.output
    monkeypatch.undo()
    assert digest(project.root / "datasets") == before


def test_missing_and_empty_folders_are_fine_and_get_the_marker(project: Project, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (empty, tmp_path / "not" / "yet"):
        result = invoke("build", "--release", str(target))
        assert result.exit_code == 0, result.output
        valid_release(target)
        marked = json.loads((target / atomic.MARKER).read_text(encoding="utf-8"))
        assert marked["policy-toolkit"] == "release"
        assert set(marked["files"]) == set(atomic.read_tree(target))


def test_the_committed_release_is_recognised_and_replaced_after_a_change(project: Project) -> None:
    committed_release(project)
    before = digest(project.release)
    result = invoke("build")
    assert result.exit_code == 0 and "unchanged" in result.output, result.output
    assert digest(project.release) == before  # recognised by its manifest; nothing rewritten
    project.edit_facts(OLD_LABEL, "label: {zh: 财联社, en: Cailian Press (edited)}")
    result = invoke("build")
    assert result.exit_code == 0 and "wrote" in result.output, result.output
    assert "Cailian Press (edited)" in (project.release / "policy.ttl").read_text(encoding="utf-8")
    assert (project.release / atomic.MARKER).is_file()
    valid_release(project.release)


def test_a_marked_release_with_a_user_file_added_is_refused(project: Project) -> None:
    assert invoke("build").exit_code == 0
    (project.release / "notes.txt").write_text("mine\n", encoding="utf-8")
    project.edit_facts(OLD_LABEL, "label: {zh: 财联社, en: Cailian Press (edited)}")
    before = digest(project.release)
    result = invoke("build")
    assert result.exit_code == 2, result.output
    assert "it holds files policy-toolkit did not write: notes.txt" in result.output
    assert digest(project.release) == before


# ---------------------------------------------------------------------- staging folders only


def test_a_users_backup_beside_the_release_survives_every_build(project: Project) -> None:
    assert invoke("build").exit_code == 0
    backup = project.root / "datasets" / ".release-backup"
    shutil.copytree(project.release, backup)
    lookalike = project.root / "datasets" / ".release-new-mine1234"  # the staging name, not our marker
    lookalike.mkdir()
    (lookalike / "draft.txt").write_text("draft\n", encoding="utf-8")
    kept = {p: digest(p) for p in (backup, lookalike)}
    assert "unchanged" in invoke("build").output
    project.edit_facts(OLD_LABEL, "label: {zh: 财联社, en: Cailian Press (edited)}")
    result = invoke("build")
    assert result.exit_code == 0 and "wrote" in result.output, result.output
    for path, before in kept.items():
        assert digest(path) == before, path


def test_a_killed_builds_staging_folder_is_removed(project: Project) -> None:
    """A staging folder whose marker names a process that has ended (a killed build) is cleaned."""
    assert invoke("build").exit_code == 0
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    stale = project.root / "datasets" / ".release-new-abcd1234"
    stale.mkdir()
    (stale / "policy.ttl").write_bytes(b"half written")
    (stale / atomic.STAGING_MARKER).write_text(json.dumps({"pid": proc.pid, "host": os.uname().nodename}))
    project.edit_facts(OLD_LABEL, "label: {zh: 财联社, en: Cailian Press (edited)}")
    assert invoke("build").exit_code == 0
    assert not stale.exists()


# ------------------------------------------------------------------- the lock, check and repair


def child_env(project: Project) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TOOLKIT_")}
    env["POLICY_TOOLKIT_ROOT"] = str(project.root)
    return env


def spawn(project: Project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit.cli", "build", *args],
        env=child_env(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _build_in_child(root: str, out: str) -> None:
    """`policy-toolkit build` in a forked process (the toolkit already imported: no start-up cost)."""
    os.environ["POLICY_TOOLKIT_ROOT"] = root
    result = CliRunner().invoke(app, ["build"])
    Path(out).write_text(result.output + (repr(result.exception) if result.exit_code else ""), encoding="utf-8")
    os._exit(result.exit_code)


def test_ten_rounds_of_two_concurrent_builds_end_whole_and_check_is_honest(project: Project, tmp_path: Path) -> None:
    """Each round changes a label, runs two `build` processes at once (forked, so that they start
    within a millisecond of each other), and then checks the release: whole (manifest = files on
    disk), holding the new label, no leftovers, and `build --check` passes."""
    committed_release(project)
    fork = multiprocessing.get_context("fork")
    label = OLD_LABEL
    for n in range(10):
        new = f"label: {{zh: 财联社, en: Cailian Press round {n}}}"
        project.edit_facts(label, new)
        label = new
        outs = [tmp_path / f"round{n}-{k}.txt" for k in range(2)]
        procs = [fork.Process(target=_build_in_child, args=(str(project.root), str(out))) for out in outs]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=300)
        texts = [out.read_text(encoding="utf-8") for out in outs]
        assert [p.exitcode for p in procs] == [0, 0], (n, texts)
        manifest = valid_release(project.release)
        written = len(manifest["files"]) + 1  # and the manifest itself
        assert sum(f"wrote {written} files" in t for t in texts) == 1, (n, texts)  # the other one waited: unchanged
        assert len(manifest["files"]) == len(
            json.loads((REPO / "datasets/release/manifest.json").read_bytes())["files"]
        )
        assert f"Cailian Press round {n}" in (project.release / "csv" / "organisations.csv").read_text("utf-8")
        check = invoke("build", "--check")
        assert check.exit_code == 0, (n, check.output)
        assert not atomic.leftovers(project.release)


def test_a_second_build_waits_for_the_lock_and_says_so(project: Project) -> None:
    with atomic.exclusive_lock(atomic.lock_path(project.release), "test"):
        proc = spawn(project)
        assert proc.stderr is not None
        line = proc.stderr.readline()
        time.sleep(0.5)  # had it not waited, it would be writing the release now
        assert line.startswith("waiting: the release folder datasets/release is in use by another build"), line
        assert proc.poll() is None and not project.release.exists()
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    valid_release(project.release)


@pytest.mark.parametrize("damage", ["delete", "alter-same-size-and-time"])
def test_check_reads_the_real_bytes_and_build_repairs(project: Project, damage: str) -> None:
    assert invoke("build").exit_code == 0
    good = atomic.read_tree(project.release)
    victim = project.release / "csv" / "places.csv"
    if damage == "delete":
        victim.unlink()
    else:  # the same size, modification time and inode: only the bytes tell
        st = victim.stat()
        data = bytearray(victim.read_bytes())
        data[-3] ^= 0x01
        with open(victim, "r+b") as fh:
            fh.write(data)
        os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    check = invoke("build", "--check")
    assert check.exit_code == 1, check.output
    assert "csv/places.csv" in check.output
    result = invoke("build")
    assert result.exit_code == 0 and "csv/places.csv" in result.output, result.output
    assert atomic.read_tree(project.release) == good
    assert invoke("build", "--check").exit_code == 0


# ------------------------------------------------------------------------ Ctrl-C, a full disk


@pytest.mark.parametrize("held", ["release", "cache"])
def test_ctrl_c_prints_one_line_and_exits_130(project: Project, held: str) -> None:
    """The child is stopped at a known point: waiting for a lock this test holds (the release's:
    before the build began; the cache's: with the release lock already taken)."""
    committed_release(project)
    before = digest(project.release)
    project.edit_facts(OLD_LABEL, "label: {zh: 财联社, en: Cailian Press (edited)}")
    lock = atomic.lock_path(project.release) if held == "release" else project.root / ".cache/policy-toolkit/.lock"
    with atomic.exclusive_lock(lock, "test"):
        proc = spawn(project)
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("waiting: "), line
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert err == "interrupted: the release in datasets/release was left as it was\n"
    assert digest(project.release) == before
    assert not atomic.leftovers(project.release)


def test_a_full_disk_gives_one_line_and_keeps_the_release(project: Project, monkeypatch) -> None:
    """Stand-in for a full disk: the release writer's ``write`` raises ENOSPC, as write(2) does
    on a full file system, after the first few files (see the next test for a real one)."""
    assert invoke("build").exit_code == 0
    before = digest(project.release)
    project.edit_facts(OLD_LABEL, "label: {zh: 财联社, en: Cailian Press (edited)}")
    real_write = assemble.StagedFiles.write
    calls = []

    def full(self, rel, chunks):
        calls.append(rel)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, rel, chunks)

    monkeypatch.setattr(assemble.StagedFiles, "write", full)
    monkeypatch.setenv("POLICY_TOOLKIT_NO_INCREMENTAL", "1")
    result = invoke("build")
    assert calls, "the stand-in was not reached"
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no space left on /"), lines
    assert "the release in datasets/release was left as it was" in lines[0]
    assert digest(project.release) == before
    assert not atomic.leftovers(project.release)


def test_a_real_full_tmpfs_gives_one_line_and_keeps_the_release(project: Project, tmp_path: Path) -> None:
    """A real tmpfs of 1.5 releases (needs root to mount; skipped, with the reason shown, otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    # room for one release and half of a second: the first build fits, the next one's staging does not
    size_k = int(sum(p.stat().st_size for p in (REPO / "datasets" / "release").rglob("*") if p.is_file()) * 1.5) // 1024
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size_k}k", "tmpfs", str(mnt)]
    if subprocess.run(mount, capture_output=True).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        release = mnt / "release"
        first = spawn(project, "--release", str(release))
        assert first.wait(timeout=300) == 0, first.communicate()
        before = digest(release)
        project.edit_facts(OLD_LABEL, "label: {zh: 财联社, en: Cailian Press (edited)}")
        second = spawn(project, "--release", str(release))
        out, err = second.communicate(timeout=300)
        assert second.returncode == 2, (out, err)
        assert err.count("\n") == 1 and err.startswith(f"error: no space left on {mnt} "), err
        assert digest(release) == before
        assert sorted(os.listdir(mnt)) == [".release.lock", "release"]
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
