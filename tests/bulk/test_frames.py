"""score_frame: the rows as given, with the score columns added; empty rows get no score."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lurescan.bulk.frames import score_frame
from lurescan.model.scoring import load_scorer
from lurescan.model.tables import require_text_columns

AD = "Customer service in Phnom Penh. Salary $1,500/month, no experience needed, housing provided. Telegram @hr_pp"


@pytest.fixture(scope="module")
def scorer(small_bundle):
    return load_scorer(small_bundle)


def test_columns_pass_through_and_empty_rows_are_not_scored(scorer):
    frame = pd.DataFrame({"keep": ["a", "b", "c"], "text": [AD, "", AD], "title": ["", "", "Agent"]})
    out = score_frame(scorer, frame, require_text_columns("t", list(frame.columns)))

    pd.testing.assert_frame_equal(out[list(frame.columns)], frame)
    assert list(out.columns[3:]) == ["scam_probability", "flagged", "categories", "category_flags", "decided_by", "reasons"]
    assert out["scam_probability"].isna().tolist() == [False, True, False]
    assert out.loc[1, ["reasons", "categories", "category_flags", "decided_by"]].tolist() == ["[]", "{}", "{}", "{}"]
    expected = scorer.score([{"text": AD}, {"text": AD, "title": "Agent"}])
    assert out["scam_probability"].dropna().tolist() == [s.scam_probability for s in expected]
    assert json.loads(out.loc[0, "reasons"]) == [r.model_dump() for r in expected[0].reasons]


def test_board_country_fills_only_rows_without_one(scorer):
    frame = pd.DataFrame({"text": [AD, AD], "board_country": [None, "TH"]})
    out = score_frame(scorer, frame, require_text_columns("t", list(frame.columns)), board_country="kh")
    expected = scorer.score([{"text": AD, "board_country": "KH"}, {"text": AD, "board_country": "TH"}])
    assert out["scam_probability"].tolist() == [s.scam_probability for s in expected]
    assert out["reasons"].tolist() == [json.dumps([r.model_dump() for r in s.reasons], ensure_ascii=False) for s in expected]
