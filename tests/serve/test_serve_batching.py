"""Concurrent requests share one model call; small calls run on the event loop, large ones in a thread."""

from __future__ import annotations

import asyncio
import threading

import pytest
from lurescan.model.listing import JobListing
from lurescan.serve.batching import CoalescingScorer


class RecordingScorer:
    """Stands in for a loaded Scorer: records each call's size and thread; 'boom' in a text fails the call."""

    def __init__(self):
        self.calls: list[tuple[int, int]] = []

    def score(self, listings, threshold=None):
        self.calls.append((len(listings), threading.get_ident()))
        if any("boom" in (listing.text or "") for listing in listings):
            raise ValueError("model failure")
        return [f"scored:{listing.text}" for listing in listings]


class Holder:
    def __init__(self):
        self.scorer = RecordingScorer()


def listing(text: str) -> JobListing:
    return JobListing(text=text)


def run(coroutine_factory, inline_chars: int, max_listings: int = 64):
    async def main():
        holder = Holder()
        coalescer = CoalescingScorer(holder, max_listings=max_listings, inline_chars=inline_chars)
        try:
            return await coroutine_factory(coalescer), holder.scorer.calls, threading.get_ident()
        finally:
            await coalescer.close()

    return asyncio.run(main())


def test_concurrent_requests_share_one_model_call_and_keep_their_results():
    async def eight_at_once(coalescer):
        return await asyncio.gather(*(coalescer.score([listing(f"ad {i}")]) for i in range(8)))

    results, calls, _ = run(eight_at_once, inline_chars=0)
    assert results == [[f"scored:ad {i}"] for i in range(8)]
    # All eight were queued before the model was free: one call.
    assert [size for size, _ in calls] == [8]


def test_small_calls_run_on_the_event_loop_and_large_ones_in_a_thread():
    async def one_small_one_large(coalescer):
        small = await coalescer.score([listing("short ad")])
        large = await coalescer.score([listing("x" * 500)])
        return small, large

    _, calls, loop_thread = run(one_small_one_large, inline_chars=100)
    (_, small_thread), (_, large_thread) = calls
    assert small_thread == loop_thread
    assert large_thread != loop_thread


def test_a_request_that_breaks_the_model_fails_alone():
    async def mixed(coalescer):
        return await asyncio.gather(
            coalescer.score([listing("ad 0")]),
            coalescer.score([listing("ad 1")]),
            coalescer.score([listing("boom")]),
            coalescer.score([listing("ad 3")]),
            return_exceptions=True,
        )

    for inline_chars in (0, 10_000):
        results, _, _ = run(mixed, inline_chars=inline_chars)
        assert results[0] == ["scored:ad 0"] and results[1] == ["scored:ad 1"] and results[3] == ["scored:ad 3"]
        assert isinstance(results[2], ValueError)


def test_a_call_never_exceeds_max_listings_but_a_batch_is_never_split():
    async def many(coalescer):
        return await asyncio.gather(
            coalescer.score([listing("first")]),
            coalescer.score([listing(f"b{i}") for i in range(5)]),
            *(coalescer.score([listing(f"s{i}")]) for i in range(4)),
        )

    results, calls, _ = run(many, inline_chars=10_000, max_listings=4)
    assert results[1] == [f"scored:b{i}" for i in range(5)]
    assert [size for size, _ in calls] == [1, 5, 4]


@pytest.mark.parametrize("inline_chars", [0, 10_000])
def test_no_model_means_503(inline_chars):
    from lurescan.serve.core.errors import ApiError

    async def main():
        holder = Holder()
        holder.scorer = None
        coalescer = CoalescingScorer(holder, max_listings=8, inline_chars=inline_chars)
        with pytest.raises(ApiError) as error:
            await coalescer.score([listing("ad")])
        assert error.value.status == 503

    asyncio.run(main())
