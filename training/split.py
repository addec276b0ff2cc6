"""A grouped, deterministic train/validation/test split.

Rows of one group never straddle the split. A group joins every ad of one
company or poster and every cluster of near-duplicate reposts (from
`dedup.deduplicate`). A "company" bigger than `max_company_share` of the data
(one employer's whole careers site, e.g. Google's 861 ads) is not one poster
reposting, and as one group it would fill a whole split by itself; such a
company is grouped by its duplicate clusters instead, and the split record
names it.

The assignment depends only on the rows' ids and the seed, and is recorded
(sha256 of the id->split list, counts per split/label/source) in the bundle.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from .data import check_trainable, load_training_data
from .dedup import DedupReport, _UnionFind, deduplicate

SPLITS = ("train", "validation", "test")


@dataclass
class SplitRecord:
    seed: int
    method: str
    fractions: dict
    counts: dict
    assignment_sha256: str
    large_companies_regrouped: list = field(default_factory=list)
    n_groups: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def company_key(name) -> str:
    if not isinstance(name, str):
        return ""
    key = re.sub(r"[\W_]+", " ", name.casefold()).strip()
    key = re.sub(r"\b(co|ltd|inc|llc|corp|corporation|company|limited|pte|pvt|gmbh|jsc|tnhh|cổ phần|công ty)\b", "", key)
    return " ".join(key.split())


def assign_groups(data: pd.DataFrame, max_company_share: float = 0.03) -> tuple[pd.Series, list[str]]:
    """One group id per row: union of company and duplicate cluster."""
    n = len(data)
    uf = _UnionFind(n)
    keys = data["company"].map(company_key) if "company" in data else pd.Series([""] * n)
    sizes = keys[keys != ""].value_counts()
    large = sorted(sizes[sizes > max(2, int(max_company_share * n))].index.tolist())
    first_of: dict[str, int] = {}
    column = data["dup_cluster"] if "dup_cluster" in data else pd.Series([f"row{i}" for i in range(n)])
    for i, (company, cluster) in enumerate(zip(keys, column)):
        for key in ((f"company:{company}",) if company and company not in large else ()) + (f"cluster:{cluster}",):
            if key in first_of:
                uf.union(first_of[key], i)
            else:
                first_of[key] = i
    return pd.Series([f"g{uf.find(i)}" for i in range(n)], index=data.index), large


def grouped_split(
    data: pd.DataFrame, seed: int = 13, n_folds: int = 10, max_company_share: float = 0.03
) -> tuple[pd.DataFrame, SplitRecord]:
    """Add `group` and `split` columns: 1 fold test, 1 fold validation, the rest train."""
    if len(data) < n_folds:
        raise ValueError(f"too few rows ({len(data)}) for a {n_folds}-fold grouped split")
    data = data.sort_values("id", kind="stable").reset_index(drop=True)
    groups, large = assign_groups(data, max_company_share)
    data = data.assign(group=groups.values)
    # Stratify on label x source so every split sees every source where possible.
    strata = data["label"].astype(str) + "|" + data["source"].astype(str)
    codes = pd.factorize(strata)[0]
    folder = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    split = np.empty(len(data), dtype=object)
    split[:] = "train"
    for fold, (_, held) in enumerate(folder.split(np.zeros(len(data)), codes, data["group"])):
        if fold == 0:
            split[held] = "test"
        elif fold == 1:
            split[held] = "validation"
    data["split"] = split
    assignment = "\n".join(f"{i}\t{s}" for i, s in zip(data["id"], data["split"]))
    counts = {
        s: {
            "rows": int((data["split"] == s).sum()),
            "scam": int(((data["split"] == s) & (data["label"] == 1)).sum()),
            "legitimate": int(((data["split"] == s) & (data["label"] == 0)).sum()),
            "by_source": {k: int(v) for k, v in data.loc[data["split"] == s, "source"].value_counts().sort_index().items()},
        }
        for s in SPLITS
    }
    record = SplitRecord(
        seed=seed,
        method=f"StratifiedGroupKFold({n_folds}) on label x source; groups = company (<= {max_company_share:.0%} of rows) U near-duplicate cluster; fold 0 test, fold 1 validation",
        fractions={s: round(counts[s]["rows"] / len(data), 4) for s in SPLITS},
        counts=counts,
        assignment_sha256=hashlib.sha256(assignment.encode("utf-8")).hexdigest(),
        large_companies_regrouped=large,
        n_groups=int(data["group"].nunique()),
    )
    return data, record


@dataclass
class Splits:
    """What every trainer starts from (`prepare_splits`): the deduplicated rows with their `split`
    column, the files they came from, the deduplication and split records, and the three splits."""

    data: pd.DataFrame
    files: list  # data.SourceFile, one per training file or dataset
    dedup: DedupReport
    split: SplitRecord
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame

    def manifest_fields(self) -> dict:
        """The data half of every bundle's manifest: files, languages, deduplication, split."""
        return {
            "training_data": [f.as_dict() for f in self.files],
            "languages": sorted(self.data["lang"].dropna().unique().tolist()),
            "dedup": self.dedup.as_dict(),
            "split": self.split.as_dict(),
        }


def _cap(frame: pd.DataFrame, limit: int | None, seed: int) -> pd.DataFrame:
    if limit is None or len(frame) <= limit:
        return frame
    return frame.sample(n=limit, random_state=seed).sort_index()


def prepare_splits(args, progress: bool = True) -> Splits:
    """Load, deduplicate and split (`args`: arguments.DataArgs); shared by every trainer and the benchmarks."""
    data, files = load_training_data(args.data, args.hf_datasets, args.hf_split, args.hf_config, args.sep)
    names = ", ".join(Path(f.path).name for f in files)
    check_trainable(data, f"training data ({names})")
    data, dedup = deduplicate(data, args.dedup_remove_threshold, args.dedup_group_threshold, progress=progress)
    check_trainable(data, f"training data ({names}) after deduplication")
    data, split = grouped_split(data, seed=args.split_seed, max_company_share=args.max_company_share)
    train = _cap(data[data["split"] == "train"], args.max_train_samples, args.split_seed)
    val = _cap(data[data["split"] == "validation"], args.max_eval_samples, args.split_seed)
    test = _cap(data[data["split"] == "test"], args.max_eval_samples, args.split_seed)
    check_trainable(train, f"training split of {names}")
    check_trainable(val, f"validation split of {names}")
    return Splits(data, files, dedup, split, train, val, test)
