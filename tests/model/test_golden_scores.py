"""The packaged model's scores on fixed real and written ads are the recorded ones (to 1e-9).

Any change to the scoring path that is meant to be faster, not different
(hashing, prefilters, caching, workers), must keep this green; a rebuilt
bundle regenerates the file (`python tests/model/golden_scores.py --write`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from golden_scores import GOLDEN, golden_ads, score_ads


def test_scores_match_the_recorded_ones(shared_data):
    golden = pd.read_csv(GOLDEN, dtype={"file": str})
    now = score_ads(golden_ads(shared_data))
    assert now["model_version"].iloc[0] == golden["model_version"].iloc[0], (
        "the packaged bundle changed: regenerate with `python tests/model/golden_scores.py --write`"
    )
    assert list(zip(now["file"], now["row"])) == list(zip(golden["file"], golden["row"]))
    assert len(now) > 3000 and now["file"].str.startswith("shared/").sum() >= 1500
    diff = np.abs(now["probability"].to_numpy() - golden["probability"].to_numpy())
    assert diff.max() <= 1e-9, f"max |Δp| {diff.max():.3g} at {golden.iloc[int(diff.argmax())][['file', 'row']].tolist()}"
    assert (now["flagged"].to_numpy() == golden["flagged"].to_numpy()).all()
