import os
import signal
import threading

import pytest

from ivif.training.interrupt import StopRequest


def test_first_signal_is_a_request_and_the_second_acts_as_before():
    before = signal.getsignal(signal.SIGINT)
    stop = StopRequest()
    with stop.installed():
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested and stop.signal is signal.SIGINT
        assert signal.getsignal(signal.SIGINT) is before  # restored at once
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_handlers_are_restored_when_no_signal_came():
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    with StopRequest().installed():
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    assert {s: signal.getsignal(s) for s in before} == before


def test_disabled_or_off_the_main_thread_it_leaves_signals_alone():
    before = signal.getsignal(signal.SIGTERM)
    with StopRequest().installed(enabled=False):
        assert signal.getsignal(signal.SIGTERM) is before
    seen = []

    def worker():
        with StopRequest().installed():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [before]
