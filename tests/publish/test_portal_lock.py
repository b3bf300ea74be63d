"""The portal lock makes a second test run wait for the first (see test_ckan.portal_lock).

A real second process holds the lock with flock(1), as another clone's pytest would; the
lock file is a temporary one, so this test never waits for a real test run.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from test_ckan import portal_lock


def test_a_second_run_waits_for_the_first(tmp_path: Path) -> None:
    lock = tmp_path / "portal.lock"
    holder = subprocess.Popen(["flock", str(lock), "-c", "echo held; sleep 1.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        refused = pytest.raises(pytest.fail.Exception, match="another test run has held the CKAN portal lock")
        with refused, portal_lock(lock, wait=0.3):
            pass
        start = time.monotonic()
        with portal_lock(lock, wait=30):  # the holder ends: our turn comes
            waited = time.monotonic() - start
            assert holder.poll() is not None
        assert 0.3 < waited < 10
    finally:
        holder.kill()
        holder.wait()
