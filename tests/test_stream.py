"""ffn.serve.stream: the one streaming loop of every long job, on made-up snapshots and a made-up clock.

Throttled while the job trains, one final update always, Stop, the time limit and a shutdown said in the final
update, and the source closed however the loop ends.
"""

import dataclasses
import threading

import pytest

from ffn.serve import stream


@dataclasses.dataclass(frozen=True)
class Snap:
    step: int
    train_seconds: float
    done: bool = False


class Source:
    """Snapshots every `every` steps up to `iters`, each `seconds` of training apart; knows whether it was closed."""

    def __init__(self, iters=100, every=10, seconds=0.5, on_step=None):
        self.iters, self.every, self.seconds, self.on_step = iters, every, seconds, on_step
        self.closed = False
        self.made = []  # the steps it computed

    def __iter__(self):
        return self._run()

    def _run(self):
        try:
            for step in range(0, self.iters + 1, self.every):
                self.made.append(step)
                if self.on_step:
                    self.on_step(step)
                yield Snap(step, step // self.every * self.seconds, done=step == self.iters)
        finally:
            self.closed = True


class Clock:
    """A clock that moves `tick` seconds each time it is read."""

    def __init__(self, tick):
        self.now, self.tick = 0.0, tick

    def __call__(self):
        self.now += self.tick
        return self.now


def run(source, flag=None, limit=0.0, per_second=3.0, tick=0.1, closing=None):
    generator = iter(source)
    updates = list(stream.stream(generator, flag or threading.Event(), limit, per_second=per_second,
                                 clock=Clock(tick), closing=closing))
    return generator, updates


def test_updates_are_throttled_and_the_final_one_always_comes():
    source = Source(iters=100, every=5)
    _, updates = run(source, per_second=3.0, tick=0.1)  # 20 chunks 0.1 s apart: an update every 0.4 s at most
    *live, final = updates
    assert [u.snap.step for u in live] == [0, 20, 40, 60, 80]  # at most 3 a second, the first at once
    assert not any(u.final for u in live) and all(u.note == "" for u in live)
    assert final.final and final.snap.step == 100 and final.snap.done and final.note == ""
    assert source.closed


def test_the_final_update_comes_even_when_no_live_one_is_due():
    source = Source(iters=40, every=10)
    _, updates = run(source, per_second=1e-6)  # one update in eleven days: only the first, then the last
    assert [(u.snap.step, u.final) for u in updates] == [(0, False), (40, True)]


def test_the_done_snapshot_is_never_a_live_update():
    _, updates = run(Source(iters=10, every=10), per_second=1e9)
    assert [(u.snap.step, u.final) for u in updates] == [(0, False), (10, True)]


def test_the_rate_counts_training_steps_per_second_from_the_first_trained_chunk():
    _, updates = run(Source(iters=20, every=10, seconds=0.5), per_second=1e9)
    assert updates[0].rate is None  # step 0: compiling, no speed yet
    assert updates[1].rate == pytest.approx(20.0) and updates[-1].rate == pytest.approx(20.0)  # 10 steps a 0.5 s
    assert updates[1].seconds_left(20) == pytest.approx(0.5) and updates[0].seconds_left(20) is None


def test_stop_ends_the_job_with_a_final_update_that_says_so_and_closes_the_source():
    flag = threading.Event()
    source = Source(iters=1000, every=10, on_step=lambda step: step == 30 and flag.set())
    _, updates = run(source, flag=flag, per_second=1e9)
    assert [u.snap.step for u in updates] == [0, 10, 20, 30]
    assert updates[-1].final and updates[-1].note == "Stopped at step 30."
    assert source.closed and source.made[-1] == 30  # nothing computed after the Stop was seen


def test_the_time_limit_ends_a_job_with_its_results_and_says_why():
    source = Source(iters=1000, every=10, seconds=1.0)  # a chunk a second
    _, updates = run(source, limit=4.0, per_second=1e9)
    assert updates[-1].final and updates[-1].snap.step == 40
    assert updates[-1].note == "Stopped at step 40: this server's time limit of 4 s per job."
    assert source.closed and source.made[-1] == 40


def test_the_time_limit_spares_compiling_and_a_job_that_has_ended():
    slow_start = [Snap(0, 99.0), Snap(10, 1.0), Snap(20, 2.0, done=True)]  # step 0: compiling time only
    updates = list(stream.stream(iter(slow_start), threading.Event(), 2.0, per_second=1e9, clock=Clock(0.1)))
    assert updates[-1].final and updates[-1].snap.step == 20 and updates[-1].note == ""
    _, updates = run(Source(iters=100, every=10, seconds=10.0), limit=0, per_second=1e9)
    assert updates[-1].snap.step == 100 and updates[-1].note == ""  # 0: no limit


def test_a_server_shutting_down_ends_every_job_and_says_so():
    closing, flag = threading.Event(), threading.Event()

    def shut_down(step):  # as Admission.shut_down does: the server's closing flag, then every job's Stop flag
        if step == 20:
            closing.set()
            flag.set()

    source = Source(iters=1000, every=10, on_step=shut_down)
    _, updates = run(source, flag=flag, closing=closing, per_second=1e9)
    assert updates[-1].final and updates[-1].snap.step == 20
    assert updates[-1].note == "Stopped at step 20: the server is shutting down. Your results so far are below."
    assert source.closed


def test_closing_the_stream_closes_the_source_and_sends_nothing_more():
    """A cancelled event (the visitor closed the tab) closes the stream at its yield: training stops there."""
    source = Source(iters=1000, every=10)
    updates = stream.stream(iter(source), threading.Event(), 0.0, per_second=1e9, clock=Clock(0.1))
    assert next(updates).snap.step == 0 and next(updates).snap.step == 10
    updates.close()
    assert source.closed and source.made == [0, 10]
    assert list(updates) == []


def test_an_error_in_the_job_closes_the_source_and_reaches_the_caller():
    def failing():
        yield Snap(0, 0.0)
        raise FloatingPointError("boom")

    with pytest.raises(FloatingPointError, match="boom"):
        list(stream.stream(failing(), threading.Event(), 0.0, clock=Clock(0.1)))


def test_a_job_without_snapshots_sends_nothing():
    assert list(stream.stream(iter([]), threading.Event(), 0.0)) == []
