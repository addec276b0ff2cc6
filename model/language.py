"""Language detection with py3langid (offline, numpy-only, no pickle).

The detected code drives per-language evaluation slices and is reported to
callers; the classifier does not depend on it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import regex
import yaml

UNDETERMINED = "und"


@lru_cache(maxsize=1)
def _config() -> dict:
    return yaml.safe_load(resources.files(__package__).joinpath("resources/languages.yaml").read_text("utf-8"))


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages([code for code in _config()["candidates"] if code in ident.nb_classes])
    return ident


@lru_cache(maxsize=1)
def _script_patterns() -> tuple[regex.Pattern, list[tuple[regex.Pattern, str]]]:
    scripts = _config()["scripts"]
    any_script = regex.compile("[" + "".join(rf"\p{{{name}}}" for name in scripts) + "]")
    return any_script, [(regex.compile(rf"\p{{{name}}}"), code) for name, code in scripts.items()]


_HAN_OR_KANA = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")


def script_language(sample: str, letters: int) -> str | None:
    """The language of a sample written mostly in a script one candidate alone uses, else None."""
    config = _config()
    share = config["script_share"] * letters
    any_script, per_script = _script_patterns()
    if len(any_script.findall(sample)) >= share:
        for pattern, code in per_script:
            if len(pattern.findall(sample)) >= share:
                return code
    if len(_HAN_OR_KANA.findall(sample)) >= share:
        return "ja" if len(_KANA.findall(sample)) >= config["kana_share"] * letters else "zh"
    return None


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text`'s main language, or "und" when unsure."""
    config = _config()
    # The first few hundred characters decide as well as the whole ad and cost
    # a fraction: detection runs for every scored listing.
    sample = text[: config["max_chars"]]
    letters = sum(map(str.isalpha, sample))
    if letters < config["min_letters"]:
        return UNDETERMINED
    by_script = script_language(sample, letters)
    if by_script is not None:
        return by_script
    code, confidence = _identifier().classify(sample)
    if confidence < config["min_confidence"]:
        return UNDETERMINED
    return config["aliases"].get(code, code)
