"""Train the baseline classifier and write a bundle, top to bottom.

    lurescan train --data FILE... --out DIR

Load -> deduplicate -> grouped split -> fit on train -> choose the threshold
on validation -> evaluate on test -> write bundle (weights, manifest, model
card) and run files (metrics.json, split.csv) into the bundle's run folder.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier

from lurescan import __version__
from lurescan.model.baseline import BaselineClassifier
from lurescan.model.bundle import estimator_files, write_bundle
from lurescan.model.card import render_card
from lurescan.model.features import ListingVectorizer, prepare_many
from lurescan.model.kinds import ScamKindHeads
from lurescan.model.redflags.engine import default_engine
from lurescan.model.threshold import choose_threshold

from .data import check_trainable, frame_to_listings, load_training_data
from .dedup import deduplicate
from .metrics import format_table, sliced_metrics
from .split import grouped_split

log = logging.getLogger(__name__)


@dataclass
class DataArgs:
    data: list[str] = field(default_factory=list)
    hf_datasets: list[str] = field(default_factory=list)
    hf_split: str = "train"
    hf_config: Optional[str] = None
    sep: Optional[str] = None
    split_seed: int = 13
    max_company_share: float = 0.03
    dedup_remove_threshold: float = 0.9
    dedup_group_threshold: float = 0.6
    max_train_samples: Optional[int] = None
    max_eval_samples: Optional[int] = None


@dataclass
class BaselineArgs:
    C: float = 4.0
    use_redflags: bool = True
    use_metadata: bool = False  # off: grouped CV on the corpus was better without (benchmarks/tune_baseline.py)
    char_ngram_max: int = 5
    n_char_features: int = 2**19
    n_word_features: int = 2**18
    max_chars: int = 6000
    target_precision: float = 0.9
    balance_sources: bool = True
    # "neutral": the n-grams read a view with each board's layout and style folded away (model/textview.py).
    text_view: str = "neutral"
    # n-grams used by fewer boards than this get no weight; None: min(3, half the training boards).
    min_source_support: Optional[int] = None
    seed: int = 0


@dataclass
class TrainArgs:
    out: str
    data: DataArgs = field(default_factory=DataArgs)
    model: BaselineArgs = field(default_factory=BaselineArgs)
    model_version: Optional[str] = None
    description: str = ""
    progress: bool = True


def library_versions() -> dict:
    out = {"python": platform.python_version()}
    for name in ("lurescan", "scikit-learn", "numpy", "scipy", "safetensors", "pandas", "py3langid"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _cap(frame: pd.DataFrame, limit: Optional[int], seed: int) -> pd.DataFrame:
    if limit is None or len(frame) <= limit:
        return frame
    return frame.sample(n=limit, random_state=seed).sort_index()


def prepare_splits(args: DataArgs, progress: bool = True):
    """Load, deduplicate and split; shared by train, finetune and the benchmarks."""
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
    return data, files, dedup, split, train, val, test


def source_family(source: str) -> str:
    """'wanted.co.kr:jobgroup_511' -> 'wanted.co.kr': job groups of one board are one source."""
    return str(source).split(":")[0]


def source_balanced_weights(frame: pd.DataFrame) -> np.ndarray:
    """Weights under which every source family counts equally within each label.

    Public data is dominated by a few large scrapes (and all its scams come
    from one platform); equal weight per source makes the small, hard sources
    (the project's own corpus) count as much as a large easy one, so the model
    learns what separates scams from legitimate ads rather than which scrape
    an ad came from. Weights average 1 within each label.
    """
    families = frame["source"].map(source_family)
    counts = pd.crosstab(families, frame["label"])
    weights = np.empty(len(frame))
    for i, (family, label) in enumerate(zip(families, frame["label"])):
        n_label = int(counts[label].sum())
        n_families = int((counts[label] > 0).sum())
        weights[i] = n_label / (n_families * counts.at[family, label])
    return weights


def fit_kind_heads(train: pd.DataFrame, prepared: list) -> Optional[ScamKindHeads]:
    """P(kind | scam) on the training scams whose kind is known; None when fewer than two kinds have enough ads."""
    scams = [(p, k) for p, k, label in zip(prepared, train["kind"], train["label"]) if label == 1]
    try:
        return ScamKindHeads().fit([p for p, _ in scams], [k for _, k in scams])
    except ValueError as exc:
        log.info("no scam-kind heads: %s", exc)
        return None


def evaluate_split(frame: pd.DataFrame, probs: np.ndarray, threshold: float) -> dict:
    return sliced_metrics(frame["label"].to_numpy(), probs, threshold, {"language": frame["lang"].tolist(), "source": frame["source"].tolist()})


def main(args: TrainArgs) -> dict:
    started = time.time()
    data, files, dedup, split, train, val, test = prepare_splits(args.data, args.progress)
    log.info("rows: train %d, validation %d, test %d", len(train), len(val), len(test))

    m = args.model
    vectorizer = ListingVectorizer(
        char_ngram_range=(2, m.char_ngram_max),
        n_char_features=m.n_char_features,
        n_word_features=m.n_word_features,
        max_chars=m.max_chars,
        use_redflags=m.use_redflags,
        use_metadata=m.use_metadata,
        text_view=m.text_view,
        min_source_support=m.min_source_support,
    )
    engine = default_engine()
    train_prepared = prepare_many(frame_to_listings(train), engine, m.max_chars)
    classifier = BaselineClassifier(vectorizer=vectorizer, C=m.C, random_state=m.seed)
    weights = source_balanced_weights(train) if m.balance_sources else None
    classifier.fit(
        train_prepared,
        train["label"].to_numpy(),
        groups=train["group"].to_numpy(),
        sample_weight=weights,
        sources=train["source"].map(source_family).to_numpy(),
    )

    val_prepared = prepare_many(frame_to_listings(val), engine, m.max_chars)
    val_probs = classifier.predict_proba(val_prepared)[:, 1]
    choice = choose_threshold(
        val["label"].to_numpy(),
        val_probs,
        target_precision=m.target_precision,
        sample_weight=source_balanced_weights(val) if m.balance_sources else None,
    )
    heads = fit_kind_heads(train, train_prepared)

    # scikit-learn's own wrapper stores the threshold; FrozenEstimator keeps fit() from refitting.
    model = FixedThresholdClassifier(FrozenEstimator(classifier), threshold=choice.threshold, response_method="predict_proba")
    model.fit(val_prepared, val["label"].to_numpy())

    metrics = {"validation": evaluate_split(val, val_probs, choice.threshold)}
    if len(test):
        test_probs = classifier.predict_proba(prepare_many(frame_to_listings(test), engine, m.max_chars))[:, 1]
        metrics["test"] = evaluate_split(test, test_probs, choice.threshold)

    created = datetime.now(timezone.utc)
    version = args.model_version or f"baseline-{created:%Y%m%d-%H%M%S}"
    manifest = {
        "kind": "baseline",
        "model_version": version,
        "created_at": created.isoformat(timespec="seconds"),
        "lurescan_version": __version__,
        "description": args.description
        or "Word 1-2-gram and character 2-5-gram TF-IDF (hashed), red-flag and metadata features, class-weighted "
        "logistic regression with cross-fitted sigmoid calibration.",
        "threshold": choice.as_dict(),
        "metrics": metrics,
        "training_data": [f.as_dict() for f in files],
        "languages": sorted(data["lang"].dropna().unique().tolist()),
        "dedup": dedup.as_dict(),
        "split": split.as_dict(),
        "params": {**asdict(m), "n_train": len(train), "n_validation": len(val), "n_test": len(test)},
        "redflag_ruleset": engine.ruleset.fingerprint,
        "scam_kind_heads": heads.n_train_ if heads is not None else None,
        "libraries": library_versions(),
        "training_seconds": round(time.time() - started, 1),
    }
    files = estimator_files(model, "model") | (estimator_files(heads, "kinds") if heads is not None else {})
    out = write_bundle(args.out, manifest, files, render_card(manifest))
    run_dir = Path(str(out) + ".run")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    data[["id", "source", "lang", "label", "group", "split"]].to_csv(run_dir / "split.csv", index=False)
    print(format_table({"validation": metrics["validation"]["overall"], **({"test": metrics["test"]["overall"]} if "test" in metrics else {})}))
    if "test" in metrics:
        print("\ntest, per language:\n" + format_table(metrics["test"]["by_language"]))
        print("\ntest, per source:\n" + format_table(metrics["test"]["by_source"]))
    print(f"\nbundle: {out}  threshold {choice.threshold:.4f} ({choice.rule})  run files: {run_dir}")
    return manifest
