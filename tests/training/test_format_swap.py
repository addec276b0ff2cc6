"""Format-swap renderers (pure functions) and the report on a trained classifier."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from lurescan.model.listing import JobListing
from lurescan.training.format_swap import (
    board_location,
    emscad_location,
    emscad_mask,
    format_swap_report,
    split_sections,
    to_board_layout,
    to_emscad_layout,
    unmask,
)

BOARD_AD = {
    "id": "topcv:1",
    "board": "topcv",
    "lang": "vi",
    "title": "Nhân viên kế toán",
    "company": "Công ty ABC",
    "location": "Hà Nội",
    "salary": "15 - 20 triệu",
    "text": "Mô tả công việc\nLập báo cáo thuế & sổ sách.\nLiên hệ: hr@abc.vn hoặc 0912 345 678, www.abc.vn\nYêu cầu ứng viên\nTốt nghiệp đại học.\nQuyền lợi\nBảo hiểm đầy đủ.",
}

EMSCAD_AD = {
    "id": "emscad:174",
    "board": "emscad",
    "lang": "en",
    "title": "Data Entry Clerk",
    "location": "US, TX, Houston",
    "company_profile": "We are a &amp; growing firm.",
    "description": "Work from home &amp; earn.Apply at #URL_0a1b2c3d4e5f6a7b8c9d#Call #PHONE_1234567890abcdef#",
    "requirements": "Email #EMAIL_fedcba9876543210ffff# today",
    "benefits": None,
}


def test_split_sections_by_headings_in_any_language():
    sections = split_sections(BOARD_AD["text"])
    assert sections["description"][0] == "Mô tả công việc"
    assert sections["requirements"][0] == "Yêu cầu ứng viên"
    assert sections["benefits"] == ["Quyền lợi", "Bảo hiểm đầy đủ."]


def test_emscad_mask_replaces_every_contact_with_a_token():
    masked = emscad_mask("Mail hr@abc.vn, call +84 912 345 678 or see https://abc.vn/jobs")
    assert re.search(r"#EMAIL_[0-9a-f]{64}#", masked) and re.search(r"#PHONE_[0-9a-f]{64}#", masked) and re.search(r"#URL_[0-9a-f]{64}#", masked)
    assert "@" not in masked and "912" not in masked and "abc.vn" not in masked
    assert emscad_mask("hr@abc.vn") == emscad_mask("hr@abc.vn")  # deterministic


def test_to_emscad_layout_has_emscad_fields_and_style():
    out = to_emscad_layout(BOARD_AD)
    assert out["location"] == "VN, , Hà Nội" and emscad_location("Seoul, Gangnam", "KR") == "KR, Gangnam, Seoul"
    assert "Công ty ABC" in out["company_profile"]
    assert "&amp;" in out["description"] and "#EMAIL_" in out["description"] and "#PHONE_" in out["description"]
    assert out["requirements"].startswith("Yêu cầu") and out["benefits"].startswith("Quyền lợi")
    assert "\n" not in out["description"]  # EMSCAD's line breaks were stripped
    assert out["salary"] == "15-20" and out["employment_type"] == "Full-time"
    assert "text" not in out
    JobListing.model_validate({k: v for k, v in out.items() if v is not None})


def test_to_board_layout_is_plain_text_without_placeholders():
    out = to_board_layout(EMSCAD_AD, "glassdoor")
    assert out["location"] == "Houston, TX"
    assert board_location("US, TX, Houston", "city_country") == "Houston, United States" and board_location("GB, LND, London", "city") == "London"
    assert "#" not in out["text"] and "&amp;" not in out["text"] and "&" in out["text"]
    assert re.search(r"https://www\.\w+\.com", out["text"]) and re.search(r"hr\.\w+@\w+\.com", out["text"]) and re.search(r"\+1 \d{3} \d{3} \d{4}", out["text"])
    assert "earn.\nApply" in out["text"]  # stripped line breaks restored
    assert set(out) >= {"title", "location", "text"} and "description" not in out
    assert unmask("no tokens here") == "no tokens here"


class KeywordModel:
    """Scores by the share of EMSCAD tokens: a model that learned EMSCAD's style, not scams."""

    def predict_proba(self, listings):
        p = np.array([min(1.0, 0.1 + 0.45 * len(re.findall(r"#(?:URL|EMAIL|PHONE)_", " ".join(v for _, v in x.text_fields())))) for x in listings])
        return np.column_stack([1 - p, p])


def test_format_swap_report_exposes_a_style_model():
    from lurescan.training.data import FRAME_COLUMNS

    frame = pd.DataFrame([{**BOARD_AD, "source": "topcv.vn", "label": 0}] * 5 + [{**EMSCAD_AD, "source": "emscad_fraud_train", "label": 1}] * 4)
    frame = frame.reindex(columns=list(dict.fromkeys([*FRAME_COLUMNS, *frame.columns])))
    report = format_swap_report(KeywordModel(), frame, threshold=0.5, n=3, seed=0)
    legit, scams = report["legitimate_to_emscad"], report["emscad_to_board"]
    assert legit["n"] == 3 and scams["n"] == 3
    assert legit["mean_abs_delta"] == pytest.approx(0.9) and legit["crossed_threshold"] == 3 and legit["flagged_after"] == 3
    assert scams["mean_delta"] == pytest.approx(-0.9) and scams["flagged_before"] == 3 and scams["flagged_after"] == 0
    assert scams["target_board"] == "glassdoor"  # no English legitimate board in the frame


def test_format_swap_report_on_a_trained_classifier(small_bundle):
    """The report is computed end to end with a real baseline (trained on the corpus)."""
    from lurescan.model.bundle import load_estimator, read_bundle
    from lurescan.training.data import FRAME_COLUMNS

    classifier = load_estimator(read_bundle(small_bundle), "model").estimator.estimator  # FixedThreshold -> Frozen -> baseline
    frame = pd.DataFrame([{**BOARD_AD, "source": "topcv.vn", "label": 0}, {**EMSCAD_AD, "source": "emscad_fraud_train", "label": 1}])
    frame = frame.reindex(columns=list(dict.fromkeys([*FRAME_COLUMNS, *frame.columns])))
    report = format_swap_report(classifier, frame, threshold=0.5)
    for key in ("legitimate_to_emscad", "emscad_to_board"):
        assert report[key]["n"] == 1 and 0 <= report[key]["max_abs_delta"] <= 1
