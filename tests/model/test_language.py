"""Language detection: the script shortcut answers as the detector does, for a fraction of the cost."""

from __future__ import annotations

import pytest

from lurescan.model.language import _config, _identifier, detect_language, script_language
from lurescan.model.textnorm import quick_normalize


def detector_only(text: str) -> str:
    """What detect_language answered before the script shortcut: py3langid on the sample."""
    config = _config()
    sample = text[: config["max_chars"]]
    if sum(map(str.isalpha, sample)) < config["min_letters"]:
        return "und"
    code, confidence = _identifier().classify(sample)
    return "und" if confidence < config["min_confidence"] else config["aliases"].get(code, code)


def test_shortcut_agrees_with_the_detector_on_every_corpus_ad(corpus_rows):
    texts = [quick_normalize("\n".join(r[k] for k in ("title", "text") if r.get(k))) for r in corpus_rows]
    decided = [t for t in texts if script_language(t[:500], sum(map(str.isalpha, t[:500]))) is not None]
    # The shortcut decides the non-Latin-script ads (ko, zh, ja, th, km, my: 6 of 11 languages)...
    assert len(decided) >= 6 * 60
    # ...and answers as py3langid does, on every ad of the corpus.
    assert [detect_language(t) for t in texts] == [detector_only(t) for t in texts]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[월드잡플러스] 일본 도쿄 株式会社ネクストフィールドシステムズ 개발자 채용, 연봉 협의, 기숙사 제공 합니다", "ko"),
        ("東京の物流会社で倉庫スタッフを募集します。未経験歓迎、寮あり。", "ja"),
        ("柬埔寨高薪客服，包机票包吃住，无需经验，联系飞机", "zh"),
        ("Việc nhẹ lương cao tại Campuchia, bao vé máy bay, liên hệ Telegram", "vi"),
        ("ok", "und"),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected
