"""Character n-gram hashing: lurescan's vectorised hasher vs scikit-learn's, one run.

    python benchmarks/bench_features.py [--docs 2000]

Both count character 2-5-grams of the same masked, lower-cased ads into
2**19 buckets. scikit-learn's `HashingVectorizer(analyzer="char_wb")` is the
plain baseline; `CharNgramHasher` hashes code-point arrays of a whole chunk
with numpy. Also times the full `ListingVectorizer.transform` (word + char
n-grams, red flags, metadata) to show where scoring time goes.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import HashingVectorizer

from lurescan.model.features import ListingVectorizer, prepare_many
from lurescan.model.ngrams import CharNgramHasher

REPO = Path(__file__).resolve().parents[1]


def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--shared-data", default=os.environ.get("LURESCAN_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    args = parser.parse_args()
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False)[["title", "text"]] for p in sorted(Path(args.shared_data).glob("*/*_text_label.csv"))]
    frames += [pd.read_json(p, lines=True, dtype=False)[["title", "text"]] for p in sorted((REPO / "data" / "corpus").glob("*.jsonl"))]
    pool = pd.concat(frames, ignore_index=True).sample(n=args.docs, random_state=0, replace=True)
    listings = pool.to_dict("records")
    prepared = prepare_many(listings)
    texts = [p.model_text for p in prepared]
    chars = np.mean([len(t) for t in texts])
    print(f"{len(texts)} ads, mean {chars:.0f} characters; {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}")

    sk = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), n_features=2**19, alternate_sign=False, norm=None, lowercase=False)
    ours = CharNgramHasher(ngram_range=(2, 5), n_features=2**19)
    t_sk = best_of(lambda: sk.transform(texts))
    t_ours = best_of(lambda: ours.transform(texts))
    print(f"sklearn HashingVectorizer(char_wb 2-5): {len(texts) / t_sk:8.0f} ads/s")
    print(f"CharNgramHasher(2-5):                   {len(texts) / t_ours:8.0f} ads/s  ({t_sk / t_ours:.1f}x)")

    t_prep = best_of(lambda: prepare_many(listings), repeats=1)
    vec = ListingVectorizer().fit(prepared)
    t_vec = best_of(lambda: vec.transform(prepared))
    print(f"prepare (normalise, red flags, mask):   {len(texts) / t_prep:8.0f} ads/s")
    print(f"ListingVectorizer.transform (prepared): {len(texts) / t_vec:8.0f} ads/s")


if __name__ == "__main__":
    main()
