"""Sources -> job boards, and sample weights under which every board counts equally.

The public data is a few large scrapes, and all of its real scams come from one
platform (EMSCAD). A model fitted on raw counts learns which scrape an ad came
from; reports that pool scrapes hide that a whole board is misjudged. Both the
weights and the held-out evaluation therefore work per *board*, and which
source values make up a board is data (`resources/boards.yaml`), not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from lurescan.model.errors import LurescanError

ORIGINS = ("real", "written")


@dataclass(frozen=True)
class Board:
    name: str
    patterns: tuple[re.Pattern, ...]
    origin: str
    country: str
    location_style: str


class BoardFileError(LurescanError):
    """boards.yaml is malformed; the message names the board and the field."""


def load_boards(text: str | None = None) -> tuple[Board, ...]:
    """Parse boards.yaml (or `text` in its layout); errors name the board and field."""
    if text is None:
        text = resources.files("lurescan.training").joinpath("resources/boards.yaml").read_text("utf-8")
    raw = yaml.safe_load(text) or {}
    entries = raw.get("boards")
    if not isinstance(entries, dict) or not entries:
        raise BoardFileError("boards.yaml: expected a non-empty 'boards' mapping")
    out = []
    for name, spec in entries.items():
        if not isinstance(spec, dict) or not spec.get("patterns"):
            raise BoardFileError(f"boards.yaml: board {name!r} needs a non-empty 'patterns' list")
        origin = spec.get("origin")
        if origin not in ORIGINS:
            raise BoardFileError(f"boards.yaml: board {name!r} has origin {origin!r}; expected one of {', '.join(ORIGINS)}")
        try:
            patterns = tuple(re.compile(str(p), re.IGNORECASE) for p in spec["patterns"])
        except re.error as exc:
            raise BoardFileError(f"boards.yaml: board {name!r} has a bad pattern: {exc}") from exc
        out.append(Board(str(name), patterns, origin, str(spec.get("country") or ""), str(spec.get("location_style") or "city")))
    return tuple(out)


@lru_cache(maxsize=1)
def default_boards() -> tuple[Board, ...]:
    return load_boards()


def source_family(source: str) -> str:
    """'wanted.co.kr:jobgroup_511' -> 'wanted.co.kr': the fallback board of an unlisted source."""
    return str(source).split(":")[0]


def find_board(source: str, boards: tuple[Board, ...] | None = None) -> Board | None:
    """The listed board a source belongs to, or None when boards.yaml does not name it."""
    for board in boards or default_boards():
        if any(p.match(str(source)) for p in board.patterns):
            return board
    return None


def board_of(source: str, boards: tuple[Board, ...] | None = None) -> str:
    """Board name of a source value; a source boards.yaml does not list is its own board (its family)."""
    board = find_board(source, boards)
    return board.name if board else source_family(source)


def origin_of(source: str, boards: tuple[Board, ...] | None = None) -> str:
    """'real' or 'written'. Unlisted sources count as real: a user's data is collected, not written by us."""
    board = find_board(source, boards)
    return board.origin if board else "real"


def board_info(name: str, boards: tuple[Board, ...] | None = None) -> Board | None:
    return next((b for b in boards or default_boards() if b.name == name), None)


def add_board_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """`board` and `origin` columns from `source` (kept if already there)."""
    frame = frame.copy()
    sources = frame["source"].astype(str)
    if "board" not in frame:
        frame["board"] = sources.map(board_of)
    if "origin" not in frame:
        frame["origin"] = sources.map(origin_of)
    return frame


def board_balanced_weights(frame: pd.DataFrame, max_ratio: float = 5.0) -> np.ndarray:
    """Per label, every board counts equally, no row weighs more than `max_ratio` x the label's mean.

    Equal weight per board keeps a small hard board (the written corpus) from
    being drowned by a large easy scrape. Without the cap a board with 2 rows
    of a label (CamHR's 2 real compound ads) would weigh as much as one with
    thousands, i.e. each of its rows would count like a thousand ads; the cap
    bounds that, and the rest of the label's weight is spread over the other
    boards. Weights average 1 within each label.
    """
    if max_ratio < 1:
        raise ValueError(f"max_ratio must be at least 1 (got {max_ratio})")
    boards = frame["board"] if "board" in frame else frame["source"].astype(str).map(board_of)
    boards = boards.to_numpy()
    labels = frame["label"].to_numpy()
    weights = np.ones(len(frame))
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        names, inverse, counts = np.unique(boards[idx], return_inverse=True, return_counts=True)
        w = len(idx) / (len(names) * counts[inverse].astype(float))
        # Cap and renormalise until no row is above the cap (water-filling).
        for _ in range(100):
            w = w / w.mean()
            over = w > max_ratio + 1e-12
            if not over.any():
                break
            free = ~over
            w[over] = max_ratio
            w[free] *= (len(w) - max_ratio * over.sum()) / w[free].sum()
        weights[idx] = w
    return weights
