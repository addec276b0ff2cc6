"""Language detection with py3langid (offline, numpy-only, no pickle).

The detected code drives per-language evaluation slices and is reported to
callers; the classifier does not depend on it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

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


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text`'s main language, or "und" when unsure."""
    config = _config()
    # The first few hundred characters decide as well as the whole ad and cost
    # a fraction: detection runs for every scored listing.
    sample = text[: config["max_chars"]]
    letters = sum(map(str.isalpha, sample))
    if letters < config["min_letters"]:
        return UNDETERMINED
    code, confidence = _identifier().classify(sample)
    if confidence < config["min_confidence"]:
        return UNDETERMINED
    return config["aliases"].get(code, code)
