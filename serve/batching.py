"""Scoring requests through one queue per worker, coalescing concurrent ones.

The model is CPU-bound and Python holds one lock, so scoring two requests at
once in one process only makes both slower. Requests wait in one FIFO queue
instead; whenever the model is free it takes every waiting request (up to
`max_listings`) and scores them in one vectorised `Scorer.score` call. An
idle server adds no wait; a busy one gets the batch discount on per-listing
cost. A batch request is never split: it is always one `Scorer.score` call.

Where the call runs depends on how long it will take. The worker learns the
model's cost per character of text from its own calls; a call expected to
take at most `inline_seconds` runs on the event loop itself. Handing it to a
worker thread and back costs about 0.6 ms of CPU per call, a quarter of
scoring one listing with the default model, and buys nothing, since the
thread would hold the same lock; and a worker whose loop is busy scoring does
not accept new connections, so they go to a worker with time to spare. A
longer call (or the first call of a new model, before its cost is known) runs
in a worker thread, so the loop still answers probes meanwhile.

A request expected to take longer than `heavy_seconds` (a 50,000-character
listing, a 200 KB page, a batch of hundreds) goes to a second queue, scored
one at a time in a worker thread beside the first, cheapest first: a single
listing then shares the CPU with it instead of waiting for it to finish,
which is what keeps the latency of ordinary requests low on a busy worker.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

import anyio
import sklearn

from lurescan.model import budget
from lurescan.model.listing import JobListing
from lurescan.model.results import ListingScore

from .core.errors import ApiError
from .core.metrics import MODEL_BATCH, MODEL_LATENCY
from .model_holder import ModelHolder


@dataclass
class _Job:
    listings: list[JobListing]
    threshold: float | None
    future: asyncio.Future = field(repr=False)
    chars: int = 0
    queued_at: float = field(default_factory=time.monotonic)


# In the heavy lane, the cheapest request goes first, but none waits longer than this.
MAX_HEAVY_WAIT_SECONDS = 1.0


def _listing_chars(listings: list[JobListing]) -> int:
    return sum(len(value) for listing in listings for _name, value in listing.text_fields())


def _text_chars(jobs: list[_Job]) -> int:
    return sum(job.chars for job in jobs)


class _Lane:
    """One queue of requests and the task that scores them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.queue: deque[_Job] = deque()
        self.wakeup: asyncio.Event | None = None
        self.task: asyncio.Task | None = None


class CoalescingScorer:
    def __init__(
        self,
        holder: ModelHolder,
        max_listings: int,
        inline_seconds: float = 0.0,
        budget_seconds: float = 0.0,
        heavy_seconds: float | None = None,
    ):
        self.holder = holder
        self.max_listings = max_listings
        self.inline_seconds = inline_seconds
        # Seconds of scoring each listing of a call may take (0: unlimited); see model/budget.py.
        self.budget_seconds = budget_seconds
        # Requests expected to take longer go to the heavy lane (None: one lane for all).
        self.heavy_seconds = heavy_seconds
        # (scorer, seconds per character): a moving average over this worker's calls to that scorer.
        self._cost: tuple[object, float] | None = None
        self._light, self._heavy = _Lane("light"), _Lane("heavy")

    def _ensure_running(self, lane: _Lane) -> None:
        if lane.task is None or lane.task.done():
            lane.wakeup = asyncio.Event()
            lane.task = asyncio.get_running_loop().create_task(self._run(lane), name=f"lurescan-scoring-{lane.name}")

    def _lane_for(self, chars: int) -> _Lane:
        if self.heavy_seconds is None or self._cost is None or self._cost[0] is not self.holder.scorer:
            return self._light  # no split, or the model's cost is not known yet
        return self._heavy if chars * self._cost[1] > self.heavy_seconds else self._light

    async def score(self, listings: list[JobListing], threshold: float | None = None) -> list[ListingScore]:
        if self.holder.scorer is None:
            raise ApiError(
                503, "model_not_ready", "no model is loaded yet; retry shortly", headers={"Retry-After": "1"}
            )
        chars = _listing_chars(listings)
        lane = self._lane_for(chars)
        self._ensure_running(lane)
        future = asyncio.get_running_loop().create_future()
        lane.queue.append(_Job(listings, threshold, future, chars))
        lane.wakeup.set()
        return await future

    def _take(self, lane: _Lane) -> list[_Job]:
        if lane is self._heavy:
            return self._take_heavy(lane)
        jobs = [lane.queue.popleft()]
        total = len(jobs[0].listings)
        while lane.queue and total + len(lane.queue[0].listings) <= self.max_listings:
            job = lane.queue.popleft()
            jobs.append(job)
            total += len(job.listings)
        return [j for j in jobs if not j.future.done()]  # drop requests whose clients left

    def _take_heavy(self, lane: _Lane) -> list[_Job]:
        """The cheapest waiting request (a batch of 20 before a 50,000-character listing), unless the
        oldest has waited `MAX_HEAVY_WAIT_SECONDS`: then that one, so none waits for ever."""
        oldest = lane.queue[0]
        if time.monotonic() - oldest.queued_at >= MAX_HEAVY_WAIT_SECONDS:
            job = oldest
        else:
            job = min(lane.queue, key=lambda j: j.chars)
        lane.queue.remove(job)
        return [] if job.future.done() else [job]

    def _score_jobs(self, jobs: list[_Job]) -> list[list[ListingScore]]:
        """One Scorer.score call per distinct threshold (almost always one call)."""
        # A loaded model's parameters are fixed and its features finite: skip scikit-learn's
        # per-call checks, about a sixth of the cost of scoring one listing.
        listings = sum(len(job.listings) for job in jobs)
        seconds = self.budget_seconds * listings if self.budget_seconds > 0 else None
        with sklearn.config_context(skip_parameter_validation=True, assume_finite=True), budget.deadline(seconds):
            return self._score_groups(jobs)

    def _score_groups(self, jobs: list[_Job]) -> list[list[ListingScore]]:
        scorer = self.holder.scorer
        results: list[list[ListingScore] | None] = [None] * len(jobs)
        groups: dict[float | None, list[int]] = {}
        for i, job in enumerate(jobs):
            groups.setdefault(job.threshold, []).append(i)
        for threshold, members in groups.items():
            listings = [listing for i in members for listing in jobs[i].listings]
            start = time.perf_counter()
            scores = scorer.score(listings, threshold=threshold)
            MODEL_LATENCY.observe(time.perf_counter() - start)
            MODEL_BATCH.observe(len(listings))
            offset = 0
            for i in members:
                n = len(jobs[i].listings)
                results[i] = scores[offset : offset + n]
                offset += n
        return results

    async def _run(self, lane: _Lane) -> None:
        while True:
            await lane.wakeup.wait()
            lane.wakeup.clear()
            while lane.queue:
                jobs = self._take(lane)
                if not jobs:
                    continue
                await self._settle(jobs, inline_allowed=lane is self._light)
                # Let the answered requests send their responses (an inline call
                # never yielded) and newly arrived ones join the next call.
                await asyncio.sleep(0)

    def _runs_inline(self, scorer: object, chars: int) -> bool:
        if self._cost is None or self._cost[0] is not scorer:
            return False  # a new model: cost unknown yet
        return chars * self._cost[1] <= self.inline_seconds

    def _learn(self, scorer: object, seconds_per_char: float) -> None:
        if self._cost is None or self._cost[0] is not scorer:
            self._cost = (scorer, seconds_per_char)
        else:
            self._cost = (scorer, 0.7 * self._cost[1] + 0.3 * seconds_per_char)

    async def _settle(self, jobs: list[_Job], inline_allowed: bool = True) -> None:
        scorer = self.holder.scorer
        chars = max(_text_chars(jobs), 1)
        start = time.perf_counter()
        try:
            if inline_allowed and self._runs_inline(scorer, chars):
                results = self._score_jobs(jobs)
            else:
                results = await anyio.to_thread.run_sync(self._score_jobs, jobs)
            self._learn(scorer, (time.perf_counter() - start) / chars)
        except Exception as exc:
            if len(jobs) > 1:
                # Score each request alone, so one request that breaks the model fails only itself.
                for job in jobs:
                    await self._settle([job], inline_allowed)
                return
            if isinstance(exc, budget.BudgetExceeded):
                exc = ApiError(
                    422,
                    "scoring_budget_exceeded",
                    f"scoring took longer than this server allows ({self.budget_seconds:g} s per listing); "
                    "the listing was not scored",
                )
            if not jobs[0].future.done():
                jobs[0].future.set_exception(exc)
            return
        for job, result in zip(jobs, results):
            if not job.future.done():
                job.future.set_result(result)

    async def close(self) -> None:
        for lane in (self._light, self._heavy):
            if lane.task is not None:
                lane.task.cancel()
                try:
                    await lane.task
                except (asyncio.CancelledError, Exception):
                    pass
            while lane.queue:
                job = lane.queue.popleft()
                if not job.future.done():
                    job.future.set_exception(ApiError(503, "model_not_ready", "the server is shutting down"))
