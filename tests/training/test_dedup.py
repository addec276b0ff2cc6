"""Duplicate removal: exact and near copies go, copies with conflicting labels are dropped."""

from __future__ import annotations

import pandas as pd

from lurescan.training.dedup import deduplicate


def _frame(rows):
    base = {"source": "s", "lang": "en", "company": None, "title": None}
    return pd.DataFrame([base | r for r in rows])


def test_exact_and_near_duplicates_removed(corpus_rows):
    ads = [r for r in corpus_rows if r["lang"] == "en"][:30]
    rows = [{"id": f"r{i}", "text": r["text"], "label": r["label"]} for i, r in enumerate(ads)]
    first = ads[0]["text"]
    # An exact repost (whitespace and case changed) and a near repost (one phrase edited).
    rows.append({"id": "z-exact", "text": "  " + first.upper().replace(" ", "   ") + "\n", "label": ads[0]["label"]})
    rows.append({"id": "z-near", "text": first.replace(first[10:20], first[10:20][::-1], 1), "label": ads[0]["label"]})
    out, report = deduplicate(_frame(rows))
    assert report.exact_removed >= 1
    assert report.exact_removed + report.near_removed == 2
    assert set(out["id"]) == {f"r{i}" for i in range(30)}


def test_copies_with_conflicting_labels_are_dropped():
    text = "Hiring warehouse packers in Osaka, 1,200 yen per hour, apply at our Umeda office."
    rows = [
        {"id": "a", "text": text, "label": 0},
        {"id": "b", "text": text, "label": 1},
        {"id": "c", "text": "Completely different ad for a bakery assistant in Busan.", "label": 0},
    ]
    out, report = deduplicate(_frame(rows))
    assert out["id"].tolist() == ["c"]
    assert report.conflicting_labels_removed == 2
