"""A build killed at any moment leaves wholly the old or wholly the new release (issue 5, hardening).

`policy-toolkit build` runs in a child process on a throw-away project copy, after one English
label of the facts was changed, and is SIGKILLed at a seeded random moment. After every kill
the release folder must hold, byte for byte, exactly the files of the old release or exactly
those of the new one; never a mix, never missing. Leftover ``.release-*`` folders beside it are
allowed right after a kill, but a build that gets as far as changing the release must have
removed the earlier ones, and a final build must remove any that remain and converge to the new
release.

When to kill. Process start-up and validation vary by a few hundred milliseconds from run to
run, more than the moments that matter last, so a delay counted from the start alone rarely
lands on them. A calibration build (old release on disk, new facts) is watched (polling every
half millisecond) for its first change on disk (a ``.release-*`` folder appears, or the release
itself changes), for the moment the release changes, and for its end. Each lane then kills
with delays from ``random.Random(seed)``, counted from one of three anchors:

* "start": the process start, uniform over the calibrated build time (anywhere in the build);
* "write": the first change on disk, uniform up to the calibrated time to the swap (while the
  new tree is written);
* "swap": the first change of the release folder itself, uniform over SWAP_WINDOW (during the
  swap and the clean-up after it: where writing the release in place would show as a mix).

Two project copies ("lanes") run side by side to halve the wall time. The counts of what the
kills hit are printed (``pytest -rA`` shows them).
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hardening_support import PYTHON, Project, child_env, tree_bytes

SEED = 20251212
LANES = 2
#: per lane: kills counted from each anchor
PLAN = {"start": 4, "write": 4, "swap": 5}
SWAP_WINDOW = 0.02  # seconds after the release first changes
POLL = 0.0005
OLD_LABEL = "label: {zh: 财联社, en: Cailian Press}"
NEW_LABEL = "label: {zh: 财联社, en: Cailian Press (edited)}"


def leftovers(release: Path) -> set[str]:
    return {p.name for p in release.parent.iterdir() if p.name.startswith(f".{release.name}-")}


def release_state(release: Path) -> object:
    """Inode of the folder and (path, inode, size, mtime) of everything in it: changes on any write."""
    try:
        entries = []
        for p in release.rglob("*"):
            st = p.stat()
            entries.append((str(p.relative_to(release)), st.st_ino, st.st_size, st.st_mtime_ns))
        return release.stat().st_ino, tuple(sorted(entries))
    except FileNotFoundError:  # changing under our feet, or gone: either way, changed
        return None


def write_tree(folder: Path, files: dict[str, bytes]) -> None:
    """Put ``files`` back as the release (test set-up; deliberately not the toolkit's code)."""
    shutil.rmtree(folder, ignore_errors=True)
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def build(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PYTHON, "-m", "toolkit.cli", "build"],
        env=child_env(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes]) -> None:
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode("utf-8", "replace")


class Watch:
    """Poll a running build for its first change on disk and for the first change of the release."""

    def __init__(self, release: Path) -> None:
        self.release = release
        self.leftovers = leftovers(release)
        self.state = release_state(release)
        self.start = time.monotonic()
        self.times: dict[str, float] = {}

    def poll(self) -> None:
        now = time.monotonic() - self.start
        if "swap" not in self.times and release_state(self.release) != self.state:
            self.times["swap"] = now
            self.times.setdefault("write", now)
        if "write" not in self.times and leftovers(self.release) - self.leftovers:
            self.times["write"] = now


@dataclass
class Lane:
    project: Project
    seed: int
    old: dict[str, bytes] = field(default_factory=dict)
    new: dict[str, bytes] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    kills: list[str] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def release(self) -> Path:
        return self.project.release

    def calibrate(self) -> None:
        finish(build(self.project.root))
        self.old = tree_bytes(self.release)
        assert "manifest.json" in self.old
        self.project.edit_facts(OLD_LABEL, NEW_LABEL)
        watch = Watch(self.release)
        proc = build(self.project.root)
        while proc.poll() is None:
            watch.poll()
            time.sleep(POLL)
        end = time.monotonic() - watch.start
        finish(proc)
        self.new = tree_bytes(self.release)
        assert self.new != self.old
        assert "swap" in watch.times, "the calibration build did not change the release"
        self.phases = {**watch.times, "end": end}

    def kill(self, anchor: str, delay: float) -> str:
        write_tree(self.release, self.old)
        before = leftovers(self.release)
        watch = Watch(self.release)
        proc = build(self.project.root)
        while anchor != "start" and anchor not in watch.times and proc.poll() is None:
            watch.poll()
            time.sleep(POLL)
        deadline = (0.0 if anchor == "start" else watch.times.get(anchor, 0.0)) + delay
        while proc.poll() is None and time.monotonic() - watch.start < deadline:
            time.sleep(POLL)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
        moment = f"{anchor}+{delay:.3f}s"
        assert self.release.is_dir(), f"release folder missing after a kill at {moment}"
        after = leftovers(self.release)
        tree = tree_bytes(self.release)
        if tree == self.old:
            state = "old"
        elif tree == self.new:
            state = "new"
        else:
            differing = sorted(r for r in set(self.old) | set(self.new) if self.old.get(r) != self.new.get(r))
            kinds = {
                r: "old" if tree.get(r) == self.old.get(r) else "new" if tree.get(r) == self.new.get(r) else "other"
                for r in differing
            }
            kinds |= {r: "missing" for r in set(self.old) | set(self.new) if r not in tree}
            kinds |= {r: "stray" for r in tree if r not in self.old and r not in self.new}
            raise AssertionError(f"kill at {moment} left a mix of old and new: {sorted(kinds.items())}")
        assert len(after - before) <= 1, f"one build left several temporary folders: {sorted(after - before)}"
        if state == "new":
            assert not (before & after), f"the release changed but earlier leftovers remain: {sorted(before & after)}"
        if proc.returncode == 0:
            outcome = "finished before the kill (new)"
            assert state == "new" and not after
        elif state == "old":
            outcome = "before the swap, writing the new tree (old)" if after - before else "before the swap (old)"
        else:
            outcome = "after the swap, before clean-up (new)" if after - before else "after the swap and clean-up (new)"
        self.outcomes[outcome] += 1
        self.kills.append(moment)
        return outcome

    def run(self) -> None:
        try:
            self.calibrate()
            rng = random.Random(self.seed)
            span = {
                "start": self.phases["end"],
                "write": max(0.005, self.phases["swap"] - self.phases["write"]),
                "swap": SWAP_WINDOW,
            }
            plan = [anchor for anchor, n in PLAN.items() for _ in range(n)]
            rng.shuffle(plan)
            for anchor in plan:
                self.kill(anchor, rng.uniform(0.0, span[anchor]))
            # the next build removes every leftover and converges to the new release
            finish(build(self.project.root))
            assert tree_bytes(self.release) == self.new
            assert not leftovers(self.release), sorted(leftovers(self.release))
        except BaseException as exc:
            self.error = exc


def test_sigkill_leaves_the_old_or_the_new_release(tmp_path: Path) -> None:
    lanes = [Lane(Project(tmp_path / f"lane{k}"), SEED + k) for k in range(LANES)]
    threads = [threading.Thread(target=lane.run) for lane in lanes]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for lane in lanes:
        if lane.error is not None:
            raise lane.error
    # every lane built the same two releases from the same facts
    assert all(lane.old == lanes[0].old and lane.new == lanes[0].new for lane in lanes)
    total: Counter[str] = Counter()
    for lane in lanes:
        total.update(lane.outcomes)
    old_seen = sum(n for k, n in total.items() if k.endswith("(old)"))
    new_seen = sum(n for k, n in total.items() if k.endswith("(new)"))
    kills = sum(total.values())
    lines = [f"{kills} SIGKILLs in {time.monotonic() - started:.1f}s: old seen {old_seen}, new seen {new_seen}"]
    lines += [f"  {n:3d}  {k}" for k, n in sorted(total.items())]
    for k, lane in enumerate(lanes):
        phases = ", ".join(f"{p} {t:.3f}s" for p, t in lane.phases.items())
        lines.append(f"  lane {k} calibration: {phases}; kills at " + " ".join(sorted(lane.kills)))
    summary = "\n".join(lines)
    print(summary)
    assert kills == LANES * sum(PLAN.values())
    # the kills must have landed on both sides of the swap, or the test proved nothing
    assert old_seen and new_seen, summary
