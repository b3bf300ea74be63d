"""A function run in a forked process: its result comes back, a failure says so, and the process ends."""

from __future__ import annotations

import os

import pytest

from toolkit.site import child as child_module
from toolkit.site.child import Child


def where(n: int) -> tuple[int, int]:
    return os.getpid(), n * 2


def fails() -> None:
    raise RuntimeError("the child fails")


def test_the_result_comes_back_from_another_process_which_then_ends() -> None:
    run = Child(where, 21)
    assert run.started
    process = run.process
    ok, (pid, value) = run.take()
    assert ok and value == 42 and pid != os.getpid()
    assert process is not None and not process.is_alive() and run.process is None


def test_a_failure_in_the_child_is_reported_not_raised() -> None:
    assert Child(fails).take() == (False, None)


def test_without_fork_nothing_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(child_module.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    run = Child(where, 1)
    assert not run.started and run.take() == (False, None)


def many(n: int) -> bytes:
    return bytes(range(256)) * n


def dies() -> None:
    os._exit(3)


def test_a_large_result_comes_back_whole_through_a_file_closed_after() -> None:
    """The result travels through a file with no name, not the pipe (75 MB of answers at 1M triples)."""
    run = Child(many, 80_000)
    out = run.out
    ok, data = run.take()
    assert ok and data == bytes(range(256)) * 80_000
    assert out is not None and out.closed and run.out is None


def test_a_child_that_dies_before_its_result_is_a_failure() -> None:
    assert Child(dies).take() == (False, None)
