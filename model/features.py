"""From listings to the feature matrix every lurescan classifier reads.

`prepare` does the per-listing work once (normalise each field, find red
flags, build the classifier's view of the text); `ListingVectorizer` turns
prepared listings into word n-gram TF-IDF, character n-gram TF-IDF, red-flag
features and a few metadata features.

The classifier's view masks URLs, e-mail addresses and phone numbers (and
EMSCAD's `#URL_…#` placeholders) to the same tokens, because one public
source hides them and the others do not: unmasked, a model learns "this came
from EMSCAD" instead of "this is a scam". The red-flag engine still sees
them, so a Telegram link is not lost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Union

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

from .listing import HTML_FIELD, MAX_CHARS, TEXT_FIELDS, JobListing
from .ngrams import CharNgramHasher
from .reading import cap_text, kept_spans, read_field, scored_raw_spans
from .redflags.destination import resolve_listing_destinations
from .redflags.engine import RedFlagEngine, RedFlagMatch, default_engine
from .redflags.features import RedFlagFeatures
from .textnorm import NormalizedText, quick_normalize
from .textview import head_tail, mask_contacts, neutral_text

_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b55\U0001f000-\U0001f2ff]")

ListingLike = Union[JobListing, dict]  # noqa: UP007 - a runtime alias, kept readable in signatures


def as_listing(item: ListingLike) -> JobListing:
    return item if isinstance(item, JobListing) else JobListing.model_validate(item)


@dataclass
class PreparedListing:
    """A listing after the per-listing work every model shares."""

    listing: JobListing
    clean_fields: dict[str, str]  # field -> normalised text
    matches: list[RedFlagMatch]  # offsets index clean_fields[field]
    model_text: str  # masked, lower-cased, truncated view for n-grams
    truncated: bool
    extras: dict = field(default_factory=dict)
    # The per-field limit on read text (reading.py) and each field's read length before it.
    max_field_chars: int | None = None
    read_chars: dict[str, int] = field(default_factory=dict)
    _raw_maps: dict[str, NormalizedText] = field(default_factory=dict, repr=False, compare=False)

    def raw_map(self, name: str) -> NormalizedText:
        """Field `name`'s read text with its map back to the field as sent.

        Built on first use and kept: scoring reads fields with the cheaper
        `quick_normalize`, and only the fields that give a reason or a
        scored range need the offset map.
        """
        mapped = self._raw_maps.get(name)
        if mapped is None:
            raw = getattr(self.listing, name)
            mapped = self._raw_maps[name] = read_field(raw, self.max_field_chars, page=name == HTML_FIELD)
        return mapped

    def scored_ranges(self, name: str) -> list[tuple[int, int]]:
        """The spans of field `name` as sent whose read text was scored (all of it unless it was cut)."""
        chars = self.read_chars[name]
        if len(kept_spans(chars, self.max_field_chars)) < 2:
            return [(0, len(getattr(self.listing, name)))]
        return scored_raw_spans(self.raw_map(name), chars, self.max_field_chars)

    @property
    def content_dropped(self) -> bool:
        """Some field's read text was longer than the limit, so only its head and tail were read."""
        return self.max_field_chars is not None and any(n > self.max_field_chars for n in self.read_chars.values())


def prepare(
    item: ListingLike, engine: RedFlagEngine | None = None, max_chars: int = MAX_CHARS, max_field_chars: int | None = None
) -> PreparedListing:
    listing = as_listing(item)
    engine = engine or default_engine()
    clean: dict[str, str] = {}
    read_chars: dict[str, int] = {}
    matches: list[RedFlagMatch] = []
    for name, raw in listing.text_fields():
        text = quick_normalize(raw, page=name == HTML_FIELD)
        if not text:
            continue
        read_chars[name] = len(text)
        text = cap_text(text, max_field_chars)
        clean[name] = text
        for rule, start, end in engine.match_text(text):
            matches.append(RedFlagMatch.of(rule, name, start, end, text[start:end]))
    matches = resolve_listing_destinations(listing, matches, clean)
    assembled = "\n".join(clean[name] for name in TEXT_FIELDS if name in clean)
    masked = mask_contacts(assembled).lower()
    return PreparedListing(
        listing=listing,
        clean_fields=clean,
        matches=matches,
        model_text=head_tail(masked, max_chars),
        truncated=len(masked) > max_chars,
        max_field_chars=max_field_chars,
        read_chars=read_chars,
    )


def prepare_many(
    items: Iterable[ListingLike | PreparedListing],
    engine: RedFlagEngine | None = None,
    max_chars: int = MAX_CHARS,
    max_field_chars: int | None = None,
) -> list[PreparedListing]:
    engine = engine or default_engine()
    return [
        item if isinstance(item, PreparedListing) else prepare(item, engine, max_chars, max_field_chars)
        for item in items
    ]


METADATA_NAMES = (
    "meta:log_chars",
    "meta:digit_share",
    "meta:upper_share",
    "meta:exclamations_per_100",
    "meta:emoji_per_100",
    "meta:urls",
    "meta:emails",
    "meta:phones",
    "meta:lines_per_100",
)


def metadata_vector(p: PreparedListing) -> np.ndarray:
    """A few scale-free properties of the text (no source-only flags)."""
    text = "\n".join(p.clean_fields.values())
    n = max(len(text), 1)
    masked = p.model_text
    return np.array(
        [
            math.log1p(len(text)) / 10.0,
            sum(c.isdigit() for c in text) / n,
            sum(c.isupper() for c in text) / n,
            min(text.count("!") * 100.0 / n, 5.0),
            min(len(_EMOJI.findall(text)) * 100.0 / n, 5.0),
            math.log1p(masked.count("[url]")),
            math.log1p(masked.count("[email]")),
            math.log1p(masked.count("[phone]")),
            min(text.count("\n") * 100.0 / n, 10.0),
        ]
    )


def sublinear_tfidf_l2(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """`normalize(TfidfTransformer(sublinear_tf=True, norm=None).transform(counts))`, computed directly.

    The same arithmetic (1 + log tf, times idf, rows scaled to unit length),
    without scikit-learn's per-call validation, which dominates when the API
    scores a single listing.
    """
    X = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    np.log(X.data, out=X.data)
    X.data += 1.0
    X.data *= idf[X.indices]
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    norms = np.sqrt(np.bincount(rows, weights=X.data * X.data, minlength=X.shape[0]))
    norms[norms == 0.0] = 1.0
    X.data /= norms[rows]
    return X


@lru_cache(maxsize=8)
def _word_hasher(ngram_range: tuple[int, int], n_features: int) -> HashingVectorizer:
    """Stateless, so one per configuration serves every call (thread-safe: transform keeps no state)."""
    return HashingVectorizer(
        analyzer="word",
        token_pattern=r"(?u)\b\w+\b|\[(?:url|email|phone)\]",
        ngram_range=ngram_range,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        lowercase=False,
        dtype=np.float64,
    )


def _word_counts(hasher: HashingVectorizer, texts: list[str]) -> sp.csr_matrix:
    # A hashing vectorizer's parameters are fixed; its per-call parameter validation is skipped.
    with config_context(skip_parameter_validation=True):
        return hasher.transform(texts)


_REDFLAG_FEATURES: dict[tuple, RedFlagFeatures] = {}


def _redflag_features(ruleset, names: Sequence[str]) -> RedFlagFeatures:
    """The feature layout with these column names (a trained model's), built once per rule set and layout."""
    key = (ruleset.fingerprint, tuple(names))
    if key not in _REDFLAG_FEATURES:
        try:
            _REDFLAG_FEATURES[key] = RedFlagFeatures.from_names(ruleset, names)
        except ValueError as exc:
            raise ValueError(f"{exc} (its red-flag categories differ from the installed ones)") from exc
    return _REDFLAG_FEATURES[key]


def redflag_block(prepared: Sequence[PreparedListing], names: Sequence[str]) -> np.ndarray:
    """The red-flag columns named `names` for these listings, each listing's row computed once.

    The classifier and the scam-kind heads read the same rows; the row is kept
    on the prepared listing (keyed by its layout, which lives as long as the
    process), so the second reader does not compute it again.
    """
    layout = _redflag_features(default_engine().ruleset, names)
    key = ("redflag_row", id(layout))
    rows = []
    for p in prepared:
        row = p.extras.get(key)
        if row is None:
            row = p.extras[key] = layout.vector(p.matches)
        rows.append(row)
    return np.vstack(rows) if rows else np.zeros((0, len(layout.names)))


def sublinear_tfidf_l2_dot(
    rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, n_rows: int, idf: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """`sublinear_tfidf_l2(counts) @ weights` from the matrix's (row, column, count) cells, without building it."""
    values = (np.log(counts) + 1.0) * idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n_rows))
    norms[norms == 0.0] = 1.0
    sums = [np.bincount(rows, weights=values * weights[cols, j], minlength=n_rows) for j in range(weights.shape[1])]
    return np.column_stack(sums) / norms[:, None]


def source_support(counts: sp.csr_matrix, sources: np.ndarray) -> np.ndarray:
    """For each column, the number of distinct sources whose rows use it."""
    support = np.zeros(counts.shape[1], dtype=np.int32)
    csr = sp.csr_matrix(counts)
    for source in np.unique(sources):
        rows = np.flatnonzero(sources == source)
        support[np.unique(csr[rows].indices)] += 1
    return support


class ListingVectorizer(TransformerMixin, BaseEstimator):
    """Word + character n-gram TF-IDF, red-flag and metadata features.

    Hashing (no stored vocabulary) keeps bundles small and means no n-gram
    text from the training data ships inside the model.
    """

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        n_word_features: int = 2**18,
        n_char_features: int = 2**19,
        max_chars: int = MAX_CHARS,
        use_redflags: bool = True,
        use_metadata: bool = False,
        redflag_weight: float = 1.0,
        text_view: str = "raw",
        min_source_support: int | None = None,
    ):
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.n_word_features = n_word_features
        self.n_char_features = n_char_features
        self.max_chars = max_chars
        self.use_redflags = use_redflags
        self.use_metadata = use_metadata
        self.redflag_weight = redflag_weight
        self.text_view = text_view
        self.min_source_support = min_source_support

    def model_texts(self, prepared: Sequence[PreparedListing]) -> list[str]:
        """What the n-gram blocks read: the masked raw text, or the source-neutral view (model/textview.py)."""
        if getattr(self, "text_view", "raw") != "neutral":
            return [p.model_text for p in prepared]
        out = []
        for p in prepared:
            if "neutral_text" not in p.extras:
                p.extras["neutral_text"] = neutral_text(p.listing, p.clean_fields, self.max_chars)
            out.append(p.extras["neutral_text"])
        return out

    def _word_hasher(self) -> HashingVectorizer:
        return _word_hasher(tuple(self.word_ngram_range), self.n_word_features)

    def _char_hasher(self) -> CharNgramHasher:
        return CharNgramHasher(ngram_range=self.char_ngram_range, n_features=self.n_char_features)

    def _counts(self, prepared: Sequence[PreparedListing]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        texts = self.model_texts(prepared)
        return _word_counts(self._word_hasher(), texts), self._char_hasher().transform(texts)

    def _dense_blocks(self, prepared: Sequence[PreparedListing]) -> list[np.ndarray]:
        """The red-flag and metadata columns, which follow the two hashed blocks."""
        blocks = []
        if self.use_redflags:
            # Columns for the categories the model was trained with; categories added since are ignored.
            blocks.append(redflag_block(prepared, self.redflag_names_) * self.redflag_weight)
        if self.use_metadata:
            blocks.append(np.vstack([metadata_vector(p) for p in prepared]) if prepared else np.zeros((0, len(METADATA_NAMES))))
        return blocks

    def fit(self, X: Sequence[ListingLike], y=None, sources=None):
        """`sources` (one board name per listing) turns on `min_source_support`:
        an n-gram seen in fewer boards than that gets no weight, so a board's
        own tells ("us tx", a template line) cannot carry the model, while
        words every board uses can."""
        prepared = prepare_many(X, max_chars=self.max_chars)
        words, chars = self._counts(prepared)
        self.word_tfidf_ = TfidfTransformer(sublinear_tf=True, norm=None).fit(words)
        self.char_tfidf_ = TfidfTransformer(sublinear_tf=True, norm=None).fit(chars)
        self.n_sources_ = 0
        if sources is not None:
            sources = np.asarray(sources).astype(str)
            self.n_sources_ = len(set(sources))
            support = self.effective_min_source_support()
            if support > 1:
                for block, tfidf in ((words, self.word_tfidf_), (chars, self.char_tfidf_)):
                    keep = source_support(block, sources) >= support
                    # A zero idf zeroes the column in every transform (sublinear_tfidf_l2 multiplies by it).
                    tfidf.idf_ = np.where(keep, tfidf.idf_, 0.0)
        self.redflag_names_ = RedFlagFeatures(default_engine().ruleset).names if self.use_redflags else []
        self.ruleset_fingerprint_ = default_engine().ruleset.fingerprint
        self.char_hasher_version_ = CharNgramHasher.VERSION
        self.n_features_out_ = (
            self.n_word_features
            + self.n_char_features
            + len(self.redflag_names_)
            + (len(METADATA_NAMES) if self.use_metadata else 0)
        )
        return self

    def effective_min_source_support(self) -> int:
        """`min_source_support`, or by default min(3, half the training boards): 1 (off) with one board."""
        n = getattr(self, "n_sources_", 0)
        if not n:
            return 1
        if self.min_source_support is not None:
            return min(int(self.min_source_support), n)
        return max(1, min(3, math.ceil(n / 2)))

    def transform(self, X: Sequence[ListingLike]) -> sp.csr_matrix:
        prepared = prepare_many(X, max_chars=self.max_chars)
        words, chars = self._counts(prepared)
        blocks = [sublinear_tfidf_l2(words, self.word_tfidf_.idf_), sublinear_tfidf_l2(chars, self.char_tfidf_.idf_)]
        blocks += [sp.csr_matrix(block) for block in self._dense_blocks(prepared)]
        return sp.hstack(blocks, format="csr")

    def transform_dot(self, X: Sequence[ListingLike], weights: np.ndarray) -> np.ndarray:
        """`self.transform(X) @ weights` (weights: n_features_out_ x k), block by block.

        What a linear model needs, without stacking the blocks into one
        matrix: the stacking and its checks cost more than the product when
        the API scores one listing. Equal to the stacked product up to
        floating-point summation order (~1e-16).
        """
        prepared = prepare_many(X, max_chars=self.max_chars)
        texts = self.model_texts(prepared)
        n, n_words, n_chars = len(texts), self.n_word_features, self.n_char_features
        if n == 0:
            return np.zeros((0, weights.shape[1]))
        words = _word_counts(self._word_hasher(), texts)
        word_rows = np.repeat(np.arange(n), np.diff(words.indptr))
        out = sublinear_tfidf_l2_dot(word_rows, words.indices, words.data, n, self.word_tfidf_.idf_, weights[:n_words])
        out += sublinear_tfidf_l2_dot(
            *self._char_hasher().hash_counts(texts), n, self.char_tfidf_.idf_, weights[n_words : n_words + n_chars]
        )
        start = n_words + n_chars
        for block in self._dense_blocks(prepared):
            out += block @ weights[start : start + block.shape[1]]
            start += block.shape[1]
        return np.asarray(out)
