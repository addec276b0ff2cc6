"""Sources -> boards, and board-balanced sample weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lurescan.training.boards import (
    BoardFileError,
    add_board_columns,
    board_balanced_weights,
    board_of,
    find_board,
    load_boards,
    origin_of,
)


@pytest.mark.parametrize(
    "source,board",
    [
        ("glassdoor_ds_salary_proj", "glassdoor"),
        ("glassdoor_uncleaned_ds_jobs", "glassdoor"),
        ("wanted.co.kr:jobgroup_511", "wanted"),
        ("wanted.co.kr:jobgroup_10057", "wanted"),
        ("camhr_2022_requirements", "camhr"),
        ("camhr_2024", "camhr"),
        ("careerviet_2025", "careerviet"),
        ("vietnamworks_2025", "vietnamworks"),
        ("emscad_fraud_train", "emscad"),
        ("lurescan_corpus", "written"),
    ],
)
def test_board_of_groups_scrapes_of_one_board(source, board):
    assert board_of(source) == board


def test_unlisted_source_is_its_own_real_board():
    assert find_board("acme-jobs:batch2") is None
    assert board_of("acme-jobs:batch2") == "acme-jobs"
    assert origin_of("acme-jobs:batch2") == "real"
    assert origin_of("lurescan_corpus") == "written"


def test_bad_board_file_names_the_board():
    with pytest.raises(BoardFileError, match="'x'.*origin"):
        load_boards("boards:\n  x: {patterns: [x], origin: scraped}\n")
    with pytest.raises(BoardFileError, match="'y'.*patterns"):
        load_boards("boards:\n  y: {origin: real}\n")


def test_every_shared_source_has_a_listed_board(shared_data):
    from lurescan.training.data import load_training_data

    files = sorted(shared_data.glob("*/*_text_label.csv")) + sorted(shared_data.glob("emscad*.csv.gz"))
    data, _ = load_training_data(files)
    sources = sorted(data["source"].unique())
    assert len(sources) >= 10
    unlisted = [s for s in sources if find_board(s) is None]
    assert not unlisted, f"sources without a board in boards.yaml: {unlisted}"
    boards = set(add_board_columns(data)["board"])
    assert {"glassdoor", "wanted", "emscad", "camhr"} <= boards
    assert len(boards) < len(sources)  # scrapes of one board were joined


def _frame(counts: dict) -> pd.DataFrame:
    rows = [{"source": src, "label": label} for (src, label), n in counts.items() for _ in range(n)]
    return pd.DataFrame(rows)


def test_weights_give_every_board_equal_total_per_label():
    frame = _frame({("topcv.vn", 0): 900, ("glassdoor_a", 0): 100, ("emscad_fraud_train", 1): 300, ("lurescan_corpus", 1): 100, ("lurescan_corpus", 0): 100})
    w = board_balanced_weights(frame, max_ratio=10.0)
    boards = frame["source"].map(board_of)
    for label in (0, 1):
        mask = frame["label"] == label
        assert w[mask].mean() == pytest.approx(1.0)
        totals = pd.Series(w[mask]).groupby(boards[mask].to_numpy()).sum()
        assert totals.max() == pytest.approx(totals.min())


def test_weights_cap_a_tiny_board():
    frame = _frame({("camhr_2024", 1): 2, ("emscad_fraud_train", 1): 600, ("lurescan_corpus", 1): 400, ("topcv.vn", 0): 50})
    w = board_balanced_weights(frame, max_ratio=5.0)
    scams = frame["label"].to_numpy() == 1
    assert w[scams].mean() == pytest.approx(1.0)
    assert w[scams].max() == pytest.approx(5.0)  # uncapped it would be 1002/(3*2) = 167
    camhr = frame["source"].to_numpy() == "camhr_2024"
    assert np.allclose(w[camhr], 5.0)
    # the rest of the weight keeps EMSCAD and the corpus equal
    emscad, corpus = w[frame["source"].to_numpy() == "emscad_fraud_train"].sum(), w[scams & (frame["source"].to_numpy() == "lurescan_corpus")].sum()
    assert emscad == pytest.approx(corpus)
    assert np.allclose(w[~scams], 1.0)


def test_weights_reject_a_ratio_below_one():
    with pytest.raises(ValueError, match="max_ratio"):
        board_balanced_weights(_frame({("a", 0): 3, ("b", 1): 3}), max_ratio=0.5)
