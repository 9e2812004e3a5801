"""Who may start a long job on this server: one long job per visitor, queued or running, and its Stop flag.

A visitor is a browser session (Gradio's session hash; each page load of each page is one). Every long job of
the app (a training run, a σ sweep, a 1D lab run, the theory's pictures) asks `claim` before it joins the queue
and runs inside `running`, which hands it the Stop flag that `stop` sets. Nothing here knows Gradio: the page
tells `Admission` how to ask whether a session still has an event in Gradio's queue (`queued`).
"""

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator

from ffn.core import checks

BUSY = "You already have a job queued or running: wait for it to end, or press Stop first."
ANONYMOUS = "anonymous"  # a direct call of a handler, not through the server: nobody to share with


class Busy(checks.Invalid):
    """A refused claim: the visitor already has a job queued or running (whose place stays theirs)."""


class Admission:
    """One long job per visitor, and Stop flags that reach only the caller's own jobs.

    `_since[session]` is when its last job was let into the queue (monotonic seconds; inf while it runs). A job
    that never reached the queue (refused as full) frees its place after `grace` seconds, unless `queued` says the
    session still waits in the queue.
    """

    def __init__(self, queued: Callable[[str], bool] = lambda session: False, grace: float = 10.0):
        self.queued = queued
        self.grace = grace
        self._since: dict[str, float] = {}
        self._flags: dict[str, set[threading.Event]] = {}
        self._lock = threading.Lock()
        self.closing = threading.Event()  # set when the server shuts down: every job ends, saying why

    def claim(self, session: str, param: str = "image_path") -> None:
        """Lets this visitor's job into the queue, or refuses it (`checks.Invalid`, marked on `param`) while they
        have one queued or running."""
        if self.closing.is_set():
            raise checks.Invalid("This server is shutting down: it starts no new job. Try again in a minute.", param)
        if session == ANONYMOUS:
            return
        with self._lock:
            self._refuse_if_busy(session, param)
            self._since[session] = time.monotonic()

    def check(self, session: str, param: str = "image_path") -> None:
        """Refuses (`Busy`) while this visitor has a job queued or running, without claiming a place."""
        if session == ANONYMOUS:
            return
        with self._lock:
            self._refuse_if_busy(session, param)

    def _refuse_if_busy(self, session: str, param: str) -> None:
        """Raises `Busy` while `session` has a job running, waiting in the queue, or let in a moment ago (under the
        lock)."""
        since = self._since.get(session)
        if since is not None and (since == math.inf or self.queued(session) or time.monotonic() - since < self.grace):
            raise Busy(BUSY, param)

    def busy(self, session: str) -> bool:
        """True while this visitor has a job running."""
        with self._lock:
            return self._since.get(session) == math.inf

    def release(self, session: str) -> None:
        """Frees this visitor's place: their job ended, or was refused when it started."""
        with self._lock:
            self._since.pop(session, None)

    @contextlib.contextmanager
    def running(self, session: str) -> Iterator[threading.Event]:
        """Marks this visitor's job as running until it ends, and yields its Stop flag."""
        flag = threading.Event()
        with self._lock:
            if session != ANONYMOUS:
                self._since[session] = math.inf
            self._flags.setdefault(session, set()).add(flag)
        try:
            yield flag
        finally:
            with self._lock:
                if session != ANONYMOUS:
                    self._since.pop(session, None)
                flags = self._flags.get(session, set())
                flags.discard(flag)
                if not flags:
                    self._flags.pop(session, None)

    def stop(self, session: str) -> int:
        """Asks this visitor's jobs in progress to end after the chunk at hand; returns how many were asked."""
        with self._lock:
            flags = list(self._flags.get(session, ()))
        for flag in flags:
            flag.set()
        return len(flags)

    def shut_down(self) -> int:
        """The server is shutting down: no new job starts, and every job in progress is asked to end; returns how
        many were asked."""
        self.closing.set()
        with self._lock:
            flags = [f for fs in self._flags.values() for f in fs]
        for flag in flags:
            flag.set()
        return len(flags)

    def running_jobs(self) -> int:
        """How many jobs are in progress."""
        with self._lock:
            return sum(len(fs) for fs in self._flags.values())
