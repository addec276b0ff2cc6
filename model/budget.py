"""A time budget for scoring, so one listing cannot hold a worker for minutes.

Every regular expression and the HTML handling are linear (see
tests/model/test_linear_time.py), but a rule file can gain a pattern that is
not, and a server must stay up meanwhile. The API sets a deadline around
each model call (`with deadline(seconds): ...`); the red-flag engine passes
what is left to every pattern as the `regex` module's `timeout`, and the
HTML parser checks it as it goes. Past the deadline `BudgetExceeded` is
raised, which the API answers as a typed error for that request only.

The deadline belongs to the thread that set it (scoring runs on the event
loop or in one worker thread at a time), so concurrent calls do not share it.
Outside a `deadline` block nothing is limited (training, the CLI).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class BudgetExceeded(RuntimeError):
    """Scoring took longer than its budget; the work was abandoned."""

    def __init__(self, seconds: float):
        super().__init__(f"scoring took longer than its budget of {seconds:g} s")
        self.seconds = seconds


_local = threading.local()


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Limit the work inside the block to `seconds` of wall-clock time (None: no limit)."""
    previous = getattr(_local, "deadline", None)
    if seconds is None:
        yield
        return
    _local.deadline = (time.monotonic() + seconds, seconds)
    try:
        yield
    finally:
        _local.deadline = previous


def remaining() -> float | None:
    """Seconds left in this thread's budget (None: no budget); raises once it is spent."""
    current = getattr(_local, "deadline", None)
    if current is None:
        return None
    left = current[0] - time.monotonic()
    if left <= 0:
        raise BudgetExceeded(current[1])
    return left


def check() -> None:
    """Raise `BudgetExceeded` if this thread's budget is spent."""
    remaining()


def exceeded() -> BudgetExceeded:
    """The error for a spent budget (for a `TimeoutError` from the `regex` module)."""
    current = getattr(_local, "deadline", None)
    return BudgetExceeded(current[1] if current else 0.0)
