"""Readable evidence for a score: the baseline's n-grams that pushed it towards "scam".

Why this and not token attributions of the transformer: the baseline is a
linear model over TF-IDF n-grams, so `coefficient x feature value` is an
exact share of its margin, computed from the listing's own n-grams in about
a millisecond, with no extra model pass. Attributions for the transformer
(occlusion, integrated gradients) would need tens of extra forward passes per
listing (an int8 MiniLM pass costs ~20 ms on 2 cores), and ONNX Runtime has
no gradients. In an ensemble bundle the baseline is a member whose weight in
the stacker is recorded, so its n-grams explain a stated part of the score;
the red-flag spans explain the rest in the rules' own words.

The hashed features keep no vocabulary, so the explainer re-hashes the
listing's own n-grams to find their columns (word n-grams with the same
murmurhash as scikit-learn's HashingVectorizer; character n-grams, which
carry Thai, Chinese, Khmer and Burmese, with `CharNgramHasher`), then finds
each n-gram in the fields as sent so the span can be highlighted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.preprocessing import normalize as l2_normalize
from sklearn.utils import murmurhash3_32

from .features import PreparedListing
from .ngrams import CharNgramHasher
from .reasons import reason_at
from .results import Reason

_INT32_MIN = -2147483648
_MASK_TOKENS = {"[url]", "[email]", "[phone]"}
# Scripts written without spaces between words: Han, kana, Thai, Lao, Khmer, Myanmar.
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u9fff\u0e00-\u0eff\u1780-\u17ff\u1000-\u109f]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class NgramEvidence:
    ngram: str
    contribution: float  # share of the baseline's linear margin (log-odds units)


def _word_column(ngram: str, n_features: int) -> int:
    """The column scikit-learn's HashingVectorizer gives `ngram` (murmurhash3, seed 0, no sign)."""
    h = murmurhash3_32(ngram, seed=0)
    return (2147483647 - (n_features - 1)) % n_features if h == _INT32_MIN else abs(h) % n_features


def unwrap_baseline(model):
    """The BaselineClassifier inside FixedThresholdClassifier(FrozenEstimator(...)) or as is."""
    inner = model
    for _ in range(3):
        if hasattr(inner, "vectorizer_"):
            return inner
        inner = getattr(inner, "estimator", inner)
    raise TypeError(f"not a fitted lurescan baseline: {type(model).__name__}")


class BaselineExplainer:
    """Top n-grams by contribution to a fitted baseline's linear margin."""

    def __init__(self, baseline_model, min_contribution: float = 0.005):
        inner = unwrap_baseline(baseline_model)
        self.vectorizer = inner.vectorizer_
        coef = inner.linear_model.coef_.ravel()
        n_word, n_char = self.vectorizer.n_word_features, self.vectorizer.n_char_features
        self.word_coef = coef[:n_word]
        self.char_coef = coef[n_word : n_word + n_char]
        self.min_contribution = float(min_contribution)

    def _word_evidence(self, text: str) -> list[NgramEvidence]:
        v = self.vectorizer
        hasher = v._word_hasher()
        row = l2_normalize(v.word_tfidf_.transform(hasher.transform([text])))
        value = dict(zip(row.indices.tolist(), row.data.tolist()))
        out = {}
        for gram in set(hasher.build_analyzer()(text)):
            if gram in _MASK_TOKENS:
                continue
            col = _word_column(gram, v.n_word_features)
            out[gram] = value.get(col, 0.0) * self.word_coef[col]
        return [NgramEvidence(g, c) for g, c in out.items()]

    def _char_evidence(self, text: str) -> list[NgramEvidence]:
        v = self.vectorizer
        row = l2_normalize(v.char_tfidf_.transform(v._char_hasher().transform([text])))
        value = dict(zip(row.indices.tolist(), row.data.tolist()))
        out = []
        lo, hi = v.char_ngram_range
        for n in range(max(lo, 3), hi + 1):  # 2-character n-grams read as noise to a person
            grams = sorted({text[i : i + n] for i in range(len(text) - n + 1)})
            # Only n-grams of the unspaced scripts (words carry the others) and no spaces or mask brackets.
            grams = [g for g in grams if _UNSPACED.search(g) and not any(c.isspace() or c in "[]" for c in g)]
            if not grams:
                continue
            cols = CharNgramHasher(ngram_range=(n, n), n_features=v.n_char_features).transform(grams).indices
            out += [NgramEvidence(g, value.get(int(c), 0.0) * self.char_coef[c]) for g, c in zip(grams, cols)]
        return out

    def top(self, prepared: PreparedListing, n: int = 5, char_ngrams: bool | None = None) -> list[NgramEvidence]:
        """The `n` n-grams that add most towards "scam", overlapping ones merged into the strongest.

        Character n-grams are used where most letters belong to scripts
        written without spaces (Chinese, Japanese, Thai, Khmer, Burmese),
        unless `char_ngrams` says otherwise.
        """
        text = self.vectorizer.model_texts([prepared])[0]
        if char_ngrams is None:
            char_ngrams = len(_UNSPACED.findall(text)) > 0.3 * max(len(_LETTER.findall(text)), 1)
        pool = self._word_evidence(text) + (self._char_evidence(text) if char_ngrams else [])
        pool = sorted((e for e in pool if e.contribution >= self.min_contribution), key=lambda e: -e.contribution)
        chosen: list[NgramEvidence] = []
        for e in pool:
            if any(e.ngram in c.ngram or c.ngram in e.ngram for c in chosen):
                continue
            chosen.append(e)
            if len(chosen) == n:
                break
        return chosen


def locate(prepared: PreparedListing, ngram: str) -> tuple[str, int, int] | None:
    """(field, start, end) of the first occurrence of `ngram` in the fields' read text, or None."""
    # Word n-grams were joined with spaces from tokens of the masked text; any punctuation may separate them.
    pattern = re.compile(r"\W+".join(re.escape(part) for part in ngram.split()), re.IGNORECASE)
    for name, clean in prepared.clean_fields.items():
        found = pattern.search(clean)
        if found:
            return name, found.start(), found.end()
    return None


def evidence_reasons(prepared: PreparedListing, evidence: Sequence[NgramEvidence], weight_note: str = "") -> list[Reason]:
    """Evidence as `Reason` objects (category "model_evidence") with spans into the fields as sent."""
    reasons = []
    for e in evidence:
        where = locate(prepared, e.ngram)
        reason = where and reason_at(
            prepared,
            *where,
            category="model_evidence",
            severity="low",
            explanation=f'The n-gram model weighs "{e.ngram}" towards scam (+{e.contribution:.3f} log-odds){weight_note}.',
            rule_id="baseline.ngram",
        )
        if reason:
            reasons.append(reason)
    return reasons
