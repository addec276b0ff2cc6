"""Concurrent requests share one model call; small calls run on the event loop, large ones in a thread."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from lurescan.model.listing import JobListing
from lurescan.serve.batching import CoalescingScorer


class RecordingScorer:
    """Stands in for a loaded Scorer: records each call's size and thread, takes `seconds_per_char`
    of time per character; 'boom' in a text fails the call."""

    def __init__(self, seconds_per_char: float = 0.0):
        self.calls: list[tuple[int, int]] = []
        self.seconds_per_char = seconds_per_char

    def score(self, listings, threshold=None):
        self.calls.append((len(listings), threading.get_ident()))
        time.sleep(self.seconds_per_char * sum(len(listing.text or "") for listing in listings))
        if any("boom" in (listing.text or "") for listing in listings):
            raise ValueError("model failure")
        return [f"scored:{listing.text}" for listing in listings]


class Holder:
    def __init__(self, seconds_per_char: float = 0.0):
        self.scorer = RecordingScorer(seconds_per_char)


def listing(text: str) -> JobListing:
    return JobListing(text=text)


def run(
    coroutine_factory,
    inline_seconds: float,
    max_listings: int = 64,
    seconds_per_char: float = 0.0,
    heavy_seconds: float | None = None,
):
    async def main():
        holder = Holder(seconds_per_char)
        coalescer = CoalescingScorer(
            holder, max_listings=max_listings, inline_seconds=inline_seconds, heavy_seconds=heavy_seconds
        )
        try:
            return await coroutine_factory(coalescer), holder.scorer.calls, threading.get_ident()
        finally:
            await coalescer.close()

    return asyncio.run(main())


def test_concurrent_requests_share_one_model_call_and_keep_their_results():
    async def eight_at_once(coalescer):
        return await asyncio.gather(*(coalescer.score([listing(f"ad {i}")]) for i in range(8)))

    results, calls, _ = run(eight_at_once, inline_seconds=0)
    assert results == [[f"scored:ad {i}"] for i in range(8)]
    # All eight were queued before the model was free: one call.
    assert [size for size, _ in calls] == [8]


def test_short_calls_run_on_the_event_loop_and_long_ones_in_a_thread():
    async def calls_of_three_lengths(coalescer):
        for text in ("first ad", "short ad", "x" * 4000, "short ad"):
            await coalescer.score([listing(text)])

    # 20 microseconds per character: "short ad" takes 0.16 ms, the long ad 80 ms; the limit is 20 ms.
    _, calls, loop_thread = run(calls_of_three_lengths, inline_seconds=0.02, seconds_per_char=2e-5)
    first, short, long, short_again = (thread == loop_thread for _, thread in calls)
    assert not first  # the model's cost is not known yet
    assert short and not long and short_again


def test_a_new_model_starts_again_in_a_thread():
    async def swap(coalescer):
        await coalescer.score([listing("ad one")])
        await coalescer.score([listing("ad two")])
        coalescer.holder.scorer = RecordingScorer()  # a reload
        await coalescer.score([listing("ad three")])
        await coalescer.score([listing("ad four")])
        return coalescer.holder.scorer.calls

    new_calls, old_calls, loop_thread = run(swap, inline_seconds=1.0)
    assert [thread == loop_thread for _, thread in old_calls] == [False, True]
    assert [thread == loop_thread for _, thread in new_calls] == [False, True]


def test_a_request_that_breaks_the_model_fails_alone():
    async def mixed(coalescer):
        return await asyncio.gather(
            coalescer.score([listing("ad 0")]),
            coalescer.score([listing("ad 1")]),
            coalescer.score([listing("boom")]),
            coalescer.score([listing("ad 3")]),
            return_exceptions=True,
        )

    for inline_seconds in (0, 10.0):
        results, _, _ = run(mixed, inline_seconds=inline_seconds)
        assert results[0] == ["scored:ad 0"] and results[1] == ["scored:ad 1"] and results[3] == ["scored:ad 3"]
        assert isinstance(results[2], ValueError)


def test_a_call_never_exceeds_max_listings_but_a_batch_is_never_split():
    async def many(coalescer):
        return await asyncio.gather(
            coalescer.score([listing("first")]),
            coalescer.score([listing(f"b{i}") for i in range(5)]),
            *(coalescer.score([listing(f"s{i}")]) for i in range(4)),
        )

    results, calls, _ = run(many, inline_seconds=10.0, max_listings=4)
    assert results[1] == [f"scored:b{i}" for i in range(5)]
    assert [size for size, _ in calls] == [1, 5, 4]


@pytest.mark.parametrize("inline_seconds", [0, 10.0])
def test_no_model_means_503(inline_seconds):
    from lurescan.serve.core.errors import ApiError

    async def main():
        holder = Holder()
        holder.scorer = None
        coalescer = CoalescingScorer(holder, max_listings=8, inline_seconds=inline_seconds)
        with pytest.raises(ApiError) as error:
            await coalescer.score([listing("ad")])
        assert error.value.status == 503

    asyncio.run(main())


async def _answer_order(coalescer):
    """After one call that teaches the worker the model's cost: `timed(name, text)` scores one
    listing and appends `name` to `order` when it is answered."""
    await coalescer.score([listing("learn the cost")])
    order: list[str] = []

    async def timed(name, text):
        await coalescer.score([listing(text)])
        order.append(name)

    return order, timed


def test_a_long_request_does_not_hold_up_short_ones():
    """Past `heavy_seconds`, a request is scored in its own lane: short ones sent after it are
    answered while it is still being scored."""

    async def one_long_then_short(coalescer):
        order, timed = await _answer_order(coalescer)

        long = asyncio.create_task(timed("long", "x" * 10_000))  # 10,000 x 20 us = 200 ms
        await asyncio.sleep(0.01)
        await asyncio.gather(*(timed(f"short {i}", f"short ad {i}") for i in range(3)))
        await long
        return order

    order, calls, loop_thread = run(
        one_long_then_short, inline_seconds=0.02, seconds_per_char=2e-5, heavy_seconds=0.05
    )
    assert order[-1] == "long" and len(order) == 4
    assert any(size == 1 and thread != loop_thread for size, thread in calls[1:])  # the long one, in a thread


def test_one_lane_when_heavy_seconds_is_none():
    async def one_long_then_short(coalescer):
        order, timed = await _answer_order(coalescer)

        long = asyncio.create_task(timed("long", "x" * 5_000))
        await asyncio.sleep(0.01)
        await timed("short", "short ad")
        await long
        return order

    order, _, _ = run(one_long_then_short, inline_seconds=0.02, seconds_per_char=2e-5)
    assert order == ["long", "short"]  # FIFO: the short one waited


@pytest.mark.parametrize("max_wait, expected", [(1.0, ["first", "shorter", "longer"]), (0.0, ["first", "longer", "shorter"])])
def test_the_heavy_lane_takes_the_cheapest_unless_one_has_waited_too_long(monkeypatch, max_wait, expected):
    from lurescan.serve import batching

    monkeypatch.setattr(batching, "MAX_HEAVY_WAIT_SECONDS", max_wait)

    async def three_heavy(coalescer):
        order, timed = await _answer_order(coalescer)

        first = asyncio.create_task(timed("first", "x" * 5_000))  # 100 ms: the others queue behind it
        await asyncio.sleep(0.02)
        longer = asyncio.create_task(timed("longer", "y" * 8_000))
        await asyncio.sleep(0.01)
        shorter = asyncio.create_task(timed("shorter", "z" * 4_000))
        await asyncio.gather(first, longer, shorter)
        return order

    order, _, _ = run(three_heavy, inline_seconds=0.02, seconds_per_char=2e-5, heavy_seconds=0.05)
    assert order == expected
