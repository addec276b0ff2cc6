"""CharMap gives what str.translate gives, on both of its paths."""

import pytest

from lurescan.model.redflags.charmap import CharMap
from lurescan.model.redflags.engine import _DIGIT_TABLE, _FOLD_TABLE, fold_diacritics


@pytest.mark.parametrize("table", [_FOLD_TABLE, _DIGIT_TABLE], ids=["diacritics", "digits"])
@pytest.mark.parametrize("repeat", [1, 40], ids=["short", "long"])
def test_same_as_translate(table: dict[int, str], repeat: int) -> None:
    text = ("Việc nhẹ lương cao ១៨០០០ ๕๐๐ ၅၀ Đà Nẵng 😀 \ud800 İstanbul ƒ ¥ " * repeat)
    assert CharMap(table)(text) == text.translate(table)


def test_fold_keeps_offsets() -> None:
    text = "Tuyển gấp, lương 30 triệu/tháng, bao vé máy bay. " * 20
    folded = fold_diacritics(text)
    assert len(folded) == len(text)
    assert folded.startswith("Tuyen gap, luong 30 trieu/thang, bao ve may bay.")


def test_refuses_a_map_that_changes_length() -> None:
    with pytest.raises(ValueError, match="exactly one character"):
        CharMap({ord("ß"): "ss"})


def test_empty_table_and_empty_text() -> None:
    assert CharMap({})("abc " * 100) == "abc " * 100
    assert CharMap(_FOLD_TABLE)("") == ""
