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


def run(coroutine_factory, inline_seconds: float, max_listings: int = 64, seconds_per_char: float = 0.0):
    async def main():
        holder = Holder(seconds_per_char)
        coalescer = CoalescingScorer(holder, max_listings=max_listings, inline_seconds=inline_seconds)
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
