"""ffn.serve.admission: one long job per visitor, queued or running, and Stop flags that reach only the caller's
own jobs. Without Gradio: a visitor is a session string, and the queue is whatever `queued` says."""

import threading

import pytest

from ffn.core import checks
from ffn.serve import admission


def test_a_visitor_has_one_job_queued_or_running():
    gate = admission.Admission(grace=60.0)
    gate.claim("ann")
    with pytest.raises(admission.Busy, match="You already have a job queued or running") as refused:
        gate.claim("ann", "specs")  # a second job while the first waits to start
    assert isinstance(refused.value, checks.Invalid) and refused.value.param == "specs"  # marked on the page's box
    gate.claim("bob")  # another visitor is not held up
    with gate.running("ann"):
        assert gate.busy("ann") and not gate.busy("bob")
        with pytest.raises(admission.Busy):
            gate.claim("ann")
    assert not gate.busy("ann")
    gate.claim("ann")  # the job ended: the visitor may start another


def test_a_claim_that_never_reached_the_queue_expires_unless_the_queue_holds_it():
    waiting = set()
    gate = admission.Admission(queued=lambda session: session in waiting, grace=0.0)
    gate.claim("ann")
    gate.claim("ann")  # refused as full by Gradio, say: after the grace its place is free again
    waiting.add("ann")
    with pytest.raises(admission.Busy):
        gate.claim("ann")  # still in Gradio's queue: still busy
    waiting.clear()
    gate.claim("ann")


def test_release_frees_a_place_and_touches_no_other():
    gate = admission.Admission(grace=60.0)
    gate.claim("ann")
    gate.claim("bob")
    gate.release("ann")
    gate.claim("ann")
    with pytest.raises(admission.Busy):
        gate.claim("bob")
    gate.release("nobody")  # releasing what was never claimed does nothing


def test_a_running_job_holds_its_place_past_the_grace():
    gate = admission.Admission(grace=0.0)
    with gate.running("ann"):
        with pytest.raises(admission.Busy):
            gate.claim("ann")


def test_a_direct_call_is_never_refused_nor_marked_busy():
    gate = admission.Admission(grace=60.0)
    gate.claim(admission.ANONYMOUS)
    gate.claim(admission.ANONYMOUS)
    with gate.running(admission.ANONYMOUS) as flag:
        assert not gate.busy(admission.ANONYMOUS)
        assert gate.stop(admission.ANONYMOUS) == 1 and flag.is_set()  # a Stop still reaches it


def test_stop_reaches_only_the_callers_jobs():
    gate = admission.Admission()
    with gate.running("ann") as ann, gate.running("bob") as bob:
        assert gate.stop("eve") == 0  # a Stop with nothing in progress does nothing
        assert not ann.is_set() and not bob.is_set()
        assert gate.stop("ann") == 1
        assert ann.is_set() and not bob.is_set()
        assert gate.running_jobs() == 2
    assert gate.running_jobs() == 0 and gate.stop("ann") == 0  # the flags go with their jobs


def test_stop_reaches_every_job_of_the_caller_and_a_new_job_starts_unstopped():
    gate = admission.Admission()
    with gate.running("ann") as first, gate.running("ann") as second:  # each job has its own flag
        assert gate.stop("ann") == 2 and first.is_set() and second.is_set()
    with gate.running("ann") as again:
        assert not again.is_set()


def test_a_job_that_fails_frees_its_place_and_its_flag():
    gate = admission.Admission(grace=60.0)
    with pytest.raises(RuntimeError):
        with gate.running("ann"):
            raise RuntimeError("the job failed")
    assert not gate.busy("ann") and gate.running_jobs() == 0
    gate.claim("ann")


def test_shutting_down_stops_every_job_and_starts_none():
    gate = admission.Admission()
    with gate.running("ann") as ann, gate.running("bob") as bob:
        assert gate.shut_down() == 2 and ann.is_set() and bob.is_set() and gate.closing.is_set()
    with pytest.raises(checks.Invalid, match="This server is shutting down: it starts no new job") as refused:
        gate.claim("carl", "specs")
    assert refused.value.param == "specs"
    with pytest.raises(checks.Invalid, match="shutting down"):
        gate.claim(admission.ANONYMOUS)


def test_claims_from_many_threads_let_exactly_one_in():
    gate = admission.Admission(grace=60.0)
    start, admitted, refused = threading.Barrier(8), [], []

    def visit():
        start.wait()
        try:
            gate.claim("ann")
            admitted.append(1)
        except admission.Busy:
            refused.append(1)

    threads = [threading.Thread(target=visit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(admitted) == 1 and len(refused) == 7
