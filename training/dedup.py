"""Exact and near-duplicate detection for job ads.

Job boards are full of reposts: the same ad with a new date, another city,
or a few words changed. Left in, they make a model look better than it is
(the test set holds copies of training ads). Exact copies and near copies
(MinHash estimate of character 5-gram Jaccard at or above `remove_threshold`)
are removed; looser near copies (at or above `group_threshold`) are kept but
put in one group, so the grouped split keeps them on one side.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from datasketch import MinHash, MinHashLSH
from tqdm.auto import tqdm

from lurescan.model.features import mask_contacts
from lurescan.model.listing import TEXT_FIELDS
from lurescan.model.textnorm import quick_normalize


@dataclass(frozen=True)
class DedupReport:
    exact_removed: int
    near_removed: int
    conflicting_labels_removed: int
    remove_threshold: float
    group_threshold: float

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def fingerprint_text(row: pd.Series) -> str:
    """The ad's text with case, whitespace, contacts and field layout ignored."""
    parts = [str(row[f]) for f in TEXT_FIELDS if f in row and isinstance(row[f], str) and row[f].strip()]
    return " ".join(mask_contacts(quick_normalize(" ".join(parts))).lower().split())


def _shingles(text: str, n: int = 5, limit: int = 3000) -> set[bytes]:
    text = text[:limit]
    return {text[i : i + n].encode("utf-8") for i in range(max(1, len(text) - n + 1))}


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def minhash_signatures(texts: list[str], num_perm: int = 128, seed: int = 1, progress: bool = False) -> list[MinHash]:
    signatures = []
    for text in tqdm(texts, desc="minhash", disable=not progress, leave=False):
        m = MinHash(num_perm=num_perm, seed=seed)
        m.update_batch(list(_shingles(text)))
        signatures.append(m)
    return signatures


def near_duplicate_pairs(signatures: list[MinHash], threshold: float) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, whose estimated Jaccard similarity is >= threshold."""
    if not signatures:
        return []
    lsh = MinHashLSH(threshold=threshold, num_perm=len(signatures[0].hashvalues))
    for i, m in enumerate(signatures):
        lsh.insert(i, m)
    pairs = set()
    for i, m in enumerate(signatures):
        for j in lsh.query(m):
            if j > i and m.jaccard(signatures[j]) >= threshold:
                pairs.add((i, j))
    return sorted(pairs)


def deduplicate(
    data: pd.DataFrame, remove_threshold: float = 0.9, group_threshold: float = 0.6, progress: bool = False
) -> tuple[pd.DataFrame, DedupReport]:
    """Drop exact and near duplicates; add a `dup_cluster` column for the split.

    Rows are processed in `id` order so the result does not depend on file order.
    A cluster of copies with different labels is dropped entirely (the label is
    unknowable) and counted in the report.
    """
    data = data.sort_values("id", kind="stable").reset_index(drop=True)
    texts = [fingerprint_text(row) for _, row in data.iterrows()]
    digests = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    n = len(data)
    tight = _UnionFind(n)
    first_by_digest: dict[str, int] = {}
    for i, d in enumerate(digests):
        if d in first_by_digest:
            tight.union(first_by_digest[d], i)
        else:
            first_by_digest[d] = i
    exact_copies = n - len(first_by_digest)
    loose = _UnionFind(n)
    for i in range(n):
        loose.union(tight.find(i), i)  # exact copies are in one loose group too
    signatures = minhash_signatures(texts, progress=progress)
    for i, j in near_duplicate_pairs(signatures, remove_threshold):
        tight.union(i, j)
    for i, j in near_duplicate_pairs(signatures, min(group_threshold, remove_threshold)):
        loose.union(i, j)
    labels = data["label"].to_numpy()
    tight_root = np.array([tight.find(i) for i in range(n)])
    keep = np.zeros(n, dtype=bool)
    conflicting = 0
    for root in np.unique(tight_root):
        members = np.flatnonzero(tight_root == root)
        if len(set(labels[members])) > 1:
            conflicting += len(members)
            continue
        keep[members[0]] = True
    near_removed = n - exact_copies - int(keep.sum()) - conflicting
    out = data.copy()
    out["dup_cluster"] = [f"dup{loose.find(i)}" for i in range(n)]
    out = out[keep].reset_index(drop=True)
    report = DedupReport(
        exact_removed=exact_copies,
        near_removed=max(near_removed, 0),
        conflicting_labels_removed=conflicting,
        remove_threshold=remove_threshold,
        group_threshold=group_threshold,
    )
    return out, report
