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


# BCP 47 language tags as callers write them: language, optional script, region and variants.
_TAG = regex.compile(
    r"(?P<language>[A-Za-z]{2,3})(?:-(?P<script>[A-Za-z]{4}))?(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)"
)
MAX_TAG_CHARS = 35


@lru_cache(maxsize=1)
def known_languages() -> frozenset[str]:
    """Language subtags lurescan knows: the candidates, the detector's languages and their other names."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    config = _config()
    detector = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True).nb_classes
    return frozenset(config["candidates"]) | frozenset(detector) | frozenset(config["caller_aliases"]) | {UNDETERMINED}


def canonical_language_tag(tag: str) -> str:
    """A caller's BCP 47 tag in canonical case ("EN-us" -> "en-US", "fil" -> "tl"), or ValueError saying why not."""
    if len(tag) > MAX_TAG_CHARS:
        raise ValueError(f"a language tag has at most {MAX_TAG_CHARS} characters ({len(tag)} sent)")
    m = _TAG.fullmatch(tag.strip().replace("_", "-"))
    if m is None:
        raise ValueError(f"{tag[:40]!r} is not a BCP 47 language tag (e.g. en, zh-Hant, pt-BR)")
    language = m["language"].lower()
    if language not in known_languages():
        raise ValueError(f"unknown language {language!r}: give an ISO 639 code lurescan knows (e.g. en, th, km, zh)")
    language = _config()["caller_aliases"].get(language, language)
    parts = [language]
    if m["script"]:
        parts.append(m["script"].title())
    if m["region"]:
        parts.append(m["region"].upper())
    if m["variants"]:
        parts.append(m["variants"][1:].lower())
    return "-".join(parts)


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
