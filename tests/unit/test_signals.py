"""Signals as exceptions (hsi_conform._signals): what the command line installs for SIGINT, SIGTERM and SIGHUP."""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import weakref
from collections.abc import Iterator

import pytest

from hsi_conform import _signals
from hsi_conform.errors import ExitCode, Interrupted

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP] if hasattr(signal, "SIGHUP") else []


def send(signum: int) -> None:
    """Deliver a signal to this process (os.kill runs the handler before it returns)."""
    os.kill(os.getpid(), signum)


@pytest.fixture
def installed() -> Iterator[None]:
    with _signals.handlers():
        yield


@pytest.mark.parametrize("signum", SIGNALS)
def test_each_signal_raises_interrupted_with_its_exit_code(installed: None, signum: int) -> None:
    with pytest.raises(Interrupted) as caught:
        send(signum)
    assert caught.value.signum == signum
    assert caught.value.exit_code == 128 + signum == ExitCode.for_signal(signum)
    assert isinstance(caught.value, KeyboardInterrupt) and not isinstance(caught.value, Exception)
    assert _signals.received() == signum


def test_the_exit_codes_are_members_of_exit_code() -> None:
    assert ExitCode.for_signal(signal.SIGHUP) is ExitCode.HANGUP
    assert ExitCode.for_signal(signal.SIGINT) is ExitCode.INTERRUPTED == 130
    assert ExitCode.for_signal(signal.SIGTERM) is ExitCode.TERMINATED
    assert pickle.loads(pickle.dumps(Interrupted(signal.SIGTERM))).signum == signal.SIGTERM


def test_previous_handlers_are_restored_and_the_signal_forgotten() -> None:
    before = {s: signal.getsignal(s) for s in SIGNALS}
    with _signals.handlers(), pytest.raises(Interrupted):
        send(signal.SIGTERM)
    assert {s: signal.getsignal(s) for s in SIGNALS} == before
    assert _signals.received() is None
    _signals.checkpoint()  # nothing recorded any more


def test_a_swallowed_interruption_is_raised_again_at_the_next_checkpoint(installed: None,
                                                                         capfd: pytest.CaptureFixture[str]) -> None:
    class Victim:
        pass

    victim = Victim()
    # h5py runs weakref callbacks on every write; an exception raised inside one is reported and lost.
    ref = weakref.ref(victim, lambda _: send(signal.SIGINT))
    del victim
    assert ref() is None
    with pytest.raises(Interrupted) as caught:
        _signals.checkpoint()
    assert caught.value.signum == signal.SIGINT
    assert "Interrupted" not in capfd.readouterr().err  # the lost one is not printed as "Exception ignored"


def test_other_unraisable_exceptions_are_still_reported(installed: None) -> None:
    seen: list[BaseException | None] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "unraisablehook", _signals._quiet(lambda u: seen.append(u.exc_value)))

        class Victim:
            pass

        victim = Victim()
        ref = weakref.ref(victim, lambda _: 1 / 0)
        del victim
    assert ref() is None
    assert len(seen) == 1 and isinstance(seen[0], ZeroDivisionError)


def test_deferred_holds_a_signal_until_the_block_is_done(installed: None) -> None:
    done: list[str] = []
    with pytest.raises(Interrupted), _signals.deferred():
        send(signal.SIGTERM)
        done.append("rename 1")
        _signals.checkpoint()  # inside the block a checkpoint does not raise either
        done.append("rename 2")
    assert done == ["rename 1", "rename 2"]


def test_deferred_raises_at_its_start_when_a_signal_came_before(installed: None) -> None:
    with _signals.shielded():
        send(signal.SIGHUP)
    ran: list[str] = []
    with pytest.raises(Interrupted), _signals.deferred():
        ran.append("rename")
    assert ran == []


def test_shielded_never_raises_even_while_an_interruption_propagates(installed: None) -> None:
    cleaned: list[str] = []
    with pytest.raises(Interrupted):
        try:
            send(signal.SIGINT)
        finally:
            with _signals.shielded():
                send(signal.SIGINT)  # a second Ctrl-C during the cleanup
                cleaned.append("temp removed")
    assert cleaned == ["temp removed"]


def test_outside_the_main_thread_nothing_is_installed() -> None:
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def run() -> None:
        with _signals.handlers():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [before]
