"""How `serve` stops: SIGTERM or SIGINT starts a graceful shutdown, a watchdog ends the process when that has not
finished within WATCHDOG_S, and a second signal exits at once.

The signals are taken off the event loop: they are blocked in every thread and a small thread waits for them with
`sigwait`. A handler that never yields (a bug we have not found yet) cannot keep that thread from arming the
watchdog, which is faulthandler's C thread: it needs neither the event loop nor the GIL, dumps every thread's
stack (where the loop was stuck) and exits 1. `docker stop` then takes at most 5 s, never the 10 s SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import TracebackType

SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
# The README promises an exit within 5 s of SIGTERM; graceful shutdown takes SHUTDOWN_GRACE_S (3 s) for requests in
# flight plus a bounded drain and the final state write; the watchdog fires at 4 s so the exit (a stack dump and
# process teardown, slow on a loaded CI machine) still lands inside the 5 s.
WATCHDOG_S = 4.0


class ShutdownSignals:
    """The first SIGTERM/SIGINT calls `on_stop` on the event loop; the second exits with 128 + signal number."""

    def __init__(self, watchdog_s: float = WATCHDOG_S) -> None:
        self.watchdog_s = watchdog_s
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_stop: Callable[[], None] | None = None
        self._requested = False
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._wait, name="fake-askelephant-signals", daemon=True)

    def attach(self, loop: asyncio.AbstractEventLoop, on_stop: Callable[[], None]) -> None:
        """Where the stop request goes; a signal that came during start-up is passed on at once."""
        with self._lock:
            self._loop, self._on_stop = loop, on_stop
            requested = self._requested
        if requested:
            loop.call_soon_threadsafe(on_stop)

    def _wait(self) -> None:
        first = signal.sigwait(SIGNALS)
        if self._closing.is_set():
            return
        print(
            f"fake-askelephant: {signal.Signals(first).name}, shutting down (a second signal exits at once)",
            file=sys.stderr,
            flush=True,
        )
        faulthandler.dump_traceback_later(self.watchdog_s, exit=True)
        with self._lock:
            self._requested = True
            loop, on_stop = self._loop, self._on_stop
        if loop is not None and on_stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing left to stop
                loop.call_soon_threadsafe(on_stop)
        second = signal.sigwait(SIGNALS)
        if self._closing.is_set():
            return
        print(f"fake-askelephant: {signal.Signals(second).name} again, exiting now", file=sys.stderr, flush=True)
        os._exit(128 + second)

    def __enter__(self) -> ShutdownSignals:
        # Before any other thread exists: threads inherit the mask, so no thread of the event loop, its resolver or
        # its executor can take a signal meant for `sigwait`. (serve starts no child processes, which would inherit
        # it too.)
        self._saved_mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # The event loop is closed: the process is about to end, or `main` was called in-process (tests). A watchdog
        # that a signal armed stays armed until the process ends.
        self._closing.set()
        if self._thread.is_alive():
            signal.pthread_kill(self._thread.ident or 0, signal.SIGTERM)  # blocked there too: `sigwait` takes it
            self._thread.join()
        signal.pthread_sigmask(signal.SIG_SETMASK, self._saved_mask)
