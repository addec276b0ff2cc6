"""Character n-gram hashing, vectorised over a whole batch with numpy.

Character n-grams let one linear model read Korean, Chinese, Thai, Khmer and
Burmese without a tokenizer. scikit-learn's `HashingVectorizer(analyzer=
"char_wb")` builds every n-gram as a Python string, which costs about 2.5 ms
for a 2,700-character ad; this hasher computes polynomial rolling hashes of
code points for all documents of a chunk at once, about 10x faster
(`benchmarks/bench_features.py` measures both in one run). The hash is fixed
by this file, so a trained bundle records `CharNgramHasher.VERSION`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

_PRIME = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime, used as the polynomial base
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64 finaliser constants
_MIX2 = np.uint64(0x94D049BB133111EB)


class CharNgramHasher(TransformerMixin, BaseEstimator):
    """Counts of hashed character n-grams: a stateless sparse featuriser.

    Parameters
    ----------
    ngram_range : (min_n, max_n), the n-gram lengths counted.
    n_features : number of hash buckets (columns).
    chunk_size : documents hashed together; sorting cost grows with the
        chunk, so moderate chunks are fastest.
    """

    VERSION = 1

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), n_features: int = 2**19, chunk_size: int = 64):
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.chunk_size = chunk_size

    def fit(self, X=None, y=None):
        return self

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        docs = list(X)
        rows, cols, counts = self.hash_counts(docs)
        indptr = np.searchsorted(rows, np.arange(len(docs) + 1, dtype=np.int64))
        return sp.csr_matrix((counts, cols, indptr), shape=(len(docs), self.n_features))

    def hash_counts(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, count) of every non-zero cell, by row then column: the matrix without the matrix."""
        docs = list(docs)
        parts = [self._hash_chunk(docs[i : i + self.chunk_size], i) for i in range(0, len(docs), self.chunk_size)]
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0)
        if len(parts) == 1:
            return parts[0]
        rows, cols, counts = (np.concatenate(column) for column in zip(*parts))
        return rows, cols, counts

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags

    def _hash_chunk(self, docs: list[str], first_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        min_n, max_n = self.ngram_range
        n_docs = len(docs)
        nf = np.uint64(self.n_features)
        # One array of code points for the chunk, documents separated by NUL;
        # n-grams that would span a separator are dropped.
        joined = "\x00".join(d.replace("\x00", " ") for d in docs) + "\x00"
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n_docs)
        doc_of = np.repeat(np.arange(n_docs, dtype=np.uint64), lengths + 1)
        is_sep = codes == 0
        keys = []
        rolling = codes.copy()
        valid = ~is_sep
        for n in range(1, max_n + 1):
            if n > 1:
                rolling = rolling[:-1] * _PRIME + codes[n - 1 :]
                valid = valid[:-1] & ~is_sep[n - 1 :]
            if n < min_n:
                continue
            idx = np.flatnonzero(valid)
            h = rolling[idx] + np.uint64(n)  # n-grams of different lengths hash apart
            h ^= h >> np.uint64(30)
            h *= _MIX1
            h ^= h >> np.uint64(27)
            h *= _MIX2
            h ^= h >> np.uint64(31)
            keys.append(doc_of[idx] * nf + h % nf)
        if not keys:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0)
        uniq, counts = np.unique(np.concatenate(keys), return_counts=True)
        rows = (uniq // nf).astype(np.int64) + first_row
        cols = (uniq % nf).astype(np.int32)
        return rows, cols, counts.astype(np.float64)
