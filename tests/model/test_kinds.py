"""Per-category scores: one per scam kind, each at most P(scam); decisive
trafficking indicators flag a listing whatever the classifier says."""

from __future__ import annotations

import numpy as np
import pytest

from lurescan.model.bundle import read_bundle
from lurescan.model.features import prepare
from lurescan.model.kinds import ScamKindHeads, category_scores, rule_shares, scam_kinds
from lurescan.model.scoring import load_scorer

CHEQUE = "We will mail you a check. Deposit the check in your account and send the rest by Zelle to our vendor. Reply with your bank name and account number."
TASKS = "Rate hotels and earn commission, top up to unlock the next set of tasks. Principal and commission refunded. Paid in USDT."
TRAFFICKING = "Receptionist, Phnom Penh. Your passport will be kept by the company for safekeeping. Please don't tell your family."


def test_every_scam_kind_is_scored() -> None:
    scores = category_scores(np.array([0.8]), [prepare({"text": CHEQUE})])[0]
    assert list(scores) == list(scam_kinds())
    assert all(0.0 <= v <= 0.8 for k, v in scores.items())
    assert scores["fake_cheque"] == max(scores.values()) > 0


def test_rule_shares_ignore_general_signs() -> None:
    shares = rule_shares(prepare({"text": "Urgent! $2,000 a week, no experience, WhatsApp us"}))
    assert "general" not in shares


def test_heads_learn_kind_from_red_flags() -> None:
    texts = {"fake_cheque": CHEQUE, "task_scam": TASKS}
    prepared, kinds = [], []
    for kind, text in texts.items():
        for i in range(12):
            prepared.append(prepare({"text": f"{text} Ref {i}."}))
            kinds.append(kind)
    prepared.append(prepare({"text": "EMSCAD scam without a kind"}))
    kinds.append(None)
    heads = ScamKindHeads(min_positives=10).fit(prepared, kinds)
    assert sorted(heads.classes_) == ["fake_cheque", "task_scam"] and heads.n_train_ == {"fake_cheque": 12, "task_scam": 12}
    p = heads.predict_proba([prepare({"text": CHEQUE}), prepare({"text": TASKS})])
    assert p[0, list(heads.classes_).index("fake_cheque")] > 0.5 and p[1, list(heads.classes_).index("task_scam")] > 0.5
    with pytest.raises(ValueError, match="two kinds"):
        ScamKindHeads(min_positives=50).fit(prepared, kinds)


def test_decisive_indicator_flags_whatever_the_score(small_bundle) -> None:
    scorer = load_scorer(small_bundle)
    result = scorer.score([{"text": TRAFFICKING}], threshold=0.999)[0]
    assert result.scam_probability < 0.999
    assert result.flagged and result.risk_level == "high"
    assert result.decided_by is not None and result.decided_by.category in {"documents_surrendered", "secrecy"}
    assert TRAFFICKING[result.decided_by.start : result.decided_by.end] == result.decided_by.text
    assert result.categories["trafficking"] == 1.0 and result.category_flags["trafficking"] is True
    assert any(r.decisive for r in result.reasons)


def test_scores_carry_categories_and_flags(small_bundle) -> None:
    assert "kinds.json" in read_bundle(small_bundle).manifest["files"]
    scorer = load_scorer(small_bundle)
    cheque, barista = scorer.score([{"text": CHEQUE}, {"text": "Barista, part-time, Hanoi. Morning shifts, training provided."}])
    assert set(cheque.categories) == set(scam_kinds()) == set(cheque.category_flags)
    assert all(v <= cheque.scam_probability + 1e-6 for k, v in cheque.categories.items() if k != "trafficking")
    assert barista.decided_by is None and not any(barista.category_flags.values())
    assert all(flag == (cheque.categories[k] >= cheque.threshold) for k, flag in cheque.category_flags.items() if k != "trafficking")
    assert any(r.scam_kind == "fake_cheque" for r in cheque.reasons)
