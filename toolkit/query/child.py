"""Child processes that can be stopped: a query in a forked child, and children that die with us.

Why a child process for a query: pyoxigraph evaluates SPARQL in Rust. It releases the GIL, but
the main thread sits inside Rust until the next solution comes, so Python's SIGINT handler
does not run and Ctrl-C did nothing for minutes; a thread cannot be stopped from outside
either. A forked child holds a copy of the loaded store (copy-on-write: nothing is copied up
front), evaluates, and sends back the serialised answer; the parent only waits on a pipe,
which a signal interrupts at once, and on Ctrl-C or a timeout it kills the child.

Why ``PR_SET_PDEATHSIG``: a child must not outlive a parent killed with SIGKILL (which runs no
clean-up code). Linux sends the child a signal when the parent dies; the setting is made in
the child between fork and exec. Elsewhere it is a no-op, and the clean-up on the next
``serve`` (see :mod:`toolkit.query.server`) still removes what was left.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")

PR_SET_PDEATHSIG = 1
_LIBC: Any = None
if sys.platform.startswith("linux"):
    try:
        # resolved once here: dlopen after fork, in a child of a threaded parent, can deadlock
        _LIBC = ctypes.CDLL(None, use_errno=True)
        _LIBC.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    except (OSError, AttributeError):
        _LIBC = None


class ChildTimeout(Exception):
    """The child did not answer in time and was killed."""


class ChildDied(Exception):
    """The child ended without an answer (killed from outside, out of memory...)."""


def die_with_parent(parent_pid: int | None = None) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; elsewhere nothing).

    Meant for ``preexec_fn`` and for forked children. The death signal is tied to the parent
    *thread* that forked: start long-lived children from the main thread. If the parent is
    already gone (it died before the call), exit now.
    """
    if _LIBC is None:
        return
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def dies_with_us() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes a child die with this process, or None where it cannot.

    Only from the main thread: the kernel ties the death signal to the thread that forked,
    and a child started from a short-lived thread (a timer, a worker) would be killed when
    that thread ends, while this process goes on.
    """
    if _LIBC is None or threading.current_thread() is not threading.main_thread():
        return None
    return partial(die_with_parent, os.getpid())


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _child_main(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], parent_pid: int) -> None:
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent reports Ctrl-C, once
    try:
        conn.send((True, fn(*args)))
    except BaseException as exc:  # every failure goes back to the parent, which decides
        try:
            conn.send((False, exc))
        except Exception:  # an exception that cannot be pickled goes back as its text
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


def call_in_child(fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
    """``fn(*args)`` evaluated in a forked child; its exception is raised here.

    ``timeout`` seconds without an answer: the child is killed and ChildTimeout raised.
    KeyboardInterrupt (Ctrl-C) while waiting: the child is killed and it propagates. Without
    fork (Windows), ``fn`` runs here and cannot be interrupted.
    """
    if not can_fork():
        return fn(*args)
    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(writer, fn, args, os.getpid()), daemon=True)
    proc.start()
    writer.close()  # ours: now the pipe ends (EOF) when the child exits without an answer
    try:
        if not reader.poll(timeout):
            raise ChildTimeout
        try:
            ok, value = reader.recv()
        except EOFError:
            raise ChildDied from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        reader.close()
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]
