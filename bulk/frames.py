"""One chunk of rows in, the same rows with their scores out: the step both engines run.

The local engine calls `score_frame` on each chunk it reads (in this process or
a forked worker), a Ray actor on each batch Ray hands it; either way the scorer
runs once per chunk, and the added columns have one schema for every chunk.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd

from lurescan.model.tables import frame_to_listings

if TYPE_CHECKING:
    from lurescan.model.scoring import Scorer


def score_frame(
    scorer: Scorer, frame: pd.DataFrame, mapping: dict[str, str], threshold: float | None = None, board_country: str | None = None
) -> pd.DataFrame:
    listings = frame_to_listings(frame, mapping)
    if board_country:
        # The board's country for every row that does not name its own.
        listings = [x if x.board_country else x.model_copy(update={"board_country": board_country.upper()}) for x in listings]
    empty = [i for i, listing in enumerate(listings) if not listing.has_text()]
    scores = scorer.score([listing for listing in listings if listing.has_text()], threshold=threshold)
    probs, flags, reasons, categories, category_flags, decided = [], [], [], [], [], []
    it = iter(scores)
    empty_set = set(empty)
    for i in range(len(listings)):
        if i in empty_set:
            # Nothing to read: no score rather than a made-up one.
            probs.append(None)
            flags.append(None)
            reasons.append("[]")
            categories.append("{}")
            category_flags.append("{}")
            decided.append("{}")
            continue
        s = next(it)
        probs.append(s.scam_probability)
        flags.append(s.flagged)
        reasons.append(json.dumps([r.model_dump() for r in s.reasons], ensure_ascii=False))
        categories.append(json.dumps(s.categories))
        category_flags.append(json.dumps(s.category_flags))
        decided.append(json.dumps(s.decided_by.model_dump(), ensure_ascii=False) if s.decided_by else "{}")
    out = frame.copy()
    out["scam_probability"] = pd.array(probs, dtype="Float64")
    out["flagged"] = pd.array(flags, dtype="boolean")
    out["categories"] = categories
    out["category_flags"] = category_flags
    # JSON like the other added columns ("{}" when the classifier decided), so every batch has one schema.
    out["decided_by"] = decided
    out["reasons"] = reasons
    return out
