"""The one streaming loop of every long job (a run, a σ sweep, the 1D lab, an inverse problem).

A job is an iterator of snapshots that have `step`, `train_seconds` and `done` (`train.Snapshot`,
`lab1d.LabSnapshot`, …). `stream` turns it into page updates: at most `per_second` of them while it trains (each
update costs the trainer the page's time to draw it), the speed in steps per second, and one final update,
always, when the job ends, is stopped (Stop) or reaches this server's time limit, with what it has.
"""

import dataclasses
import math
import threading
import time
from collections.abc import Iterator

from ffn.core.cost import duration

UPDATES_PER_SECOND = 3.0  # each streamed update costs a run ~0.1 s of waiting for the page


@dataclasses.dataclass(frozen=True)
class Update:
    """One update of a streamed job."""

    snap: object  # the job's snapshot
    rate: float | None  # steps per second of training so far (compilation excluded); None before the first chunk
    note: str  # why the job ended before its last step ('' otherwise)
    final: bool  # the last update: the job ended, was stopped, or reached the time limit

    def seconds_left(self, total_steps: int) -> float | None:
        """Seconds the job still needs at its speed so far, None before it has one."""
        return (total_steps - self.snap.step) / self.rate if self.rate else None


def stopped(flag: threading.Event, snap, limit_seconds: float, closing: threading.Event | None = None) -> str:
    """Why a job ends before its last step ('' while it goes on): the server shutting down, the visitor's Stop, or
    the time limit (which counts training, not compiling: a busy server's visitors do not choose when programs
    compile). 0: no limit."""
    if closing is not None and closing.is_set():
        return f"Stopped at step {snap.step}: the server is shutting down. Your results so far are below."
    if flag.is_set():
        return f"Stopped at step {snap.step}."
    if limit_seconds and snap.step and snap.train_seconds >= limit_seconds and not snap.done:
        return f"Stopped at step {snap.step}: this server's time limit of {duration(limit_seconds)} per job."
    return ""


def stream(snapshots: Iterator, flag: threading.Event, limit_seconds: float,
           per_second: float = UPDATES_PER_SECOND, clock=time.perf_counter,
           closing: threading.Event | None = None) -> Iterator[Update]:
    """Updates of a job: throttled while it trains, then one final update. Closing this generator (a cancelled
    event) or reaching the end closes `snapshots`, which stops the training."""
    last, rate, snap, note = -math.inf, None, None, ""
    try:
        for snap in snapshots:
            if snap.step > 0 and snap.train_seconds > 0:
                rate = snap.step / snap.train_seconds
            if note := stopped(flag, snap, limit_seconds, closing):
                break
            now = clock()
            if not snap.done and now - last >= 1.0 / per_second:
                last = now
                yield Update(snap, rate, "", False)
    finally:
        close = getattr(snapshots, "close", None)
        if close is not None:
            close()
    if snap is not None:
        yield Update(snap, rate, note, True)
