"""Train the baseline classifier and write a bundle, top to bottom.

    lurescan train --data FILE... --out DIR

Load -> deduplicate -> grouped split -> fit on train (every board weighted
equally) -> held-out evaluation on train+validation (each legitimate board
left out, real scams of unseen companies, written-corpus folds) -> threshold:
the lowest at which every left-out legitimate board keeps FPR <= 1% (or, with
no board to leave out, the validation target-precision rule) -> evaluate on
test, real and written ads apart -> format-swap check -> write bundle
(weights, manifest, model card) and run files (metrics.json, split.csv,
heldout.json, heldout_margins.csv.gz) into the bundle's run folder.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import asdict

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier

from lurescan.model.baseline import BaselineClassifier
from lurescan.model.bundle import estimator_files
from lurescan.model.features import ListingVectorizer, prepare_many
from lurescan.model.kinds import ScamKindHeads
from lurescan.model.redflags.engine import default_engine
from lurescan.model.scoring import decisive_flags

from .arguments import THRESHOLD_RULES, ArgumentError, BaselineArgs, TrainArgs
from .boards import add_board_columns, board_balanced_weights
from .data import frame_to_listings
from .evaluate import evaluate_origins
from .finish import finish_training, library_versions
from .format_swap import format_swap_report
from .heldout import (
    LEGIT_BOARD,
    decision_margins,
    margin_to_probability,
    run_held_out,
    summarize_held_out,
    unseen_board_threshold,
)
from .metrics import format_table
from .split import prepare_splits
from .threshold import choose_threshold

log = logging.getLogger(__name__)


def fit_kind_heads(train: pd.DataFrame, prepared: list) -> ScamKindHeads | None:
    """P(kind | scam) on the training scams whose kind is known; None when fewer than two kinds have enough ads."""
    scams = [(p, k) for p, k, label in zip(prepared, train["kind"], train["label"]) if label == 1]
    try:
        return ScamKindHeads().fit([p for p, _ in scams], [k for _, k in scams])
    except ValueError as exc:
        log.info("no scam-kind heads: %s", exc)
        return None


# BaselineArgs fields that are ListingVectorizer options of the same name.
VECTORIZER_OPTIONS = ("n_char_features", "n_word_features", "max_chars", "use_redflags", "use_metadata", "text_view", "min_source_support")


def make_classifier(m: BaselineArgs) -> BaselineClassifier:
    vectorizer = ListingVectorizer(char_ngram_range=(2, m.char_ngram_max), **{name: getattr(m, name) for name in VECTORIZER_OPTIONS})
    return BaselineClassifier(vectorizer=vectorizer, C=m.C, random_state=m.train_seed)


def held_out_evaluation(template: BaselineClassifier, frame: pd.DataFrame, prepared: list, m: BaselineArgs) -> pd.DataFrame:
    """Out-of-set margins and probabilities for every held-out row (heldout.run_held_out)."""
    from .heldout import held_out_sets

    weights = (lambda f: board_balanced_weights(f, m.max_weight_ratio)) if m.balance_sources else None
    sets = list(held_out_sets(frame, n_folds=m.heldout_folds, seed=m.train_seed))
    log.info("held-out: %d fits (%s)", len(sets), ", ".join(s.name for s in sets))
    return run_held_out(template, prepared, frame, sets, weights=weights, n_jobs=m.heldout_jobs)


def choose_final_threshold(classifier: BaselineClassifier, val: pd.DataFrame, val_probs: np.ndarray, scored: pd.DataFrame | None, m: BaselineArgs) -> tuple[dict, dict | None]:
    """The manifest's threshold record, and the held-out choice (None under the target-precision rule).

    "unseen_boards": the lowest margin at which every left-out legitimate
    board keeps FPR <= max_unseen_fpr, mapped to this model's probability
    scale. It falls back to "target_precision" on validation when there is no
    held-out run or no legitimate board to leave out (e.g. corpus-only data),
    and the record says why.
    """
    if m.threshold_rule not in THRESHOLD_RULES:
        raise ArgumentError(f"threshold_rule must be one of {', '.join(THRESHOLD_RULES)} (got {m.threshold_rule!r})")
    y_val = val["label"].to_numpy()
    old = choose_threshold(y_val, val_probs, target_precision=m.target_precision, sample_weight=board_balanced_weights(add_board_columns(val), m.max_weight_ratio) if m.balance_sources else None)
    if m.threshold_rule == "target_precision":
        return old.as_dict(), None
    boards = scored[(scored["kind"] == LEGIT_BOARD) & (scored["label"] == 0)] if scored is not None else None
    if boards is None or boards.empty:
        reason = "no held-out run (heldout=False)" if scored is None else "no legitimate board to leave out"
        log.warning("threshold: %s; using the validation target-precision rule", reason)
        return {**old.as_dict(), "requested_rule": "unseen_boards", "fallback_reason": reason}, None
    # An ad a decisive rule flags is flagged at any threshold: it counts against its board's allowance.
    unseen = unseen_board_threshold(decision_margins(boards), boards["label"], boards["board"], max_fpr=m.max_unseen_fpr)
    threshold = margin_to_probability(classifier, unseen.margin)
    pred = val_probs >= threshold
    tp = int((pred & (y_val == 1)).sum())
    record = {
        **old.as_dict(),
        "threshold": threshold,
        "rule": "unseen_boards",
        "margin": unseen.margin,
        "max_unseen_fpr": m.max_unseen_fpr,
        "set_by_board": unseen.set_by,
        "validation_precision": tp / max(int(pred.sum()), 1),
        "validation_recall": tp / max(int((y_val == 1).sum()), 1),
        "medium_risk_threshold": min(old.medium_risk_threshold, threshold),
        "target_precision_threshold": old.threshold,
        "weighted": False,
    }
    return record, unseen.as_dict()


def main(args: TrainArgs) -> dict:
    started = time.time()
    splits = prepare_splits(args.data, args.progress)
    splits = dataclasses.replace(splits, **{name: add_board_columns(getattr(splits, name)) for name in ("data", "train", "val", "test")})
    train, val, test = splits.train, splits.val, splits.test
    log.info("rows: train %d, validation %d, test %d", len(train), len(val), len(test))

    m = args.model
    engine = default_engine()
    train_prepared = prepare_many(frame_to_listings(train), engine, m.max_chars)
    val_prepared = prepare_many(frame_to_listings(val), engine, m.max_chars)
    classifier = make_classifier(m)
    weights = board_balanced_weights(train, m.max_weight_ratio) if m.balance_sources else None
    classifier.fit(train_prepared, train["label"].to_numpy(), groups=train["group"].to_numpy(), sample_weight=weights, sources=train["board"].to_numpy())
    val_probs = classifier.predict_proba(val_prepared)[:, 1]

    # Held-out fits see train+validation only, so the test split stays unseen by the threshold too.
    heldout_frame = pd.concat([train, val], ignore_index=True)
    scored = held_out_evaluation(make_classifier(m), heldout_frame, train_prepared + val_prepared, m) if m.heldout else None
    threshold, unseen = choose_final_threshold(classifier, val, val_probs, scored, m)
    cut = threshold["threshold"]
    heads = fit_kind_heads(train, train_prepared)

    # scikit-learn's own wrapper stores the threshold; FrozenEstimator keeps fit() from refitting.
    model = FixedThresholdClassifier(FrozenEstimator(classifier), threshold=cut, response_method="predict_proba")
    model.fit(val_prepared, val["label"].to_numpy())

    metrics = {"validation": evaluate_origins(val, val_probs, cut, m.train_seed, decisive_flags(val_prepared))}
    if len(test):
        test_prepared = prepare_many(frame_to_listings(test), engine, m.max_chars)
        test_probs = classifier.predict_proba(test_prepared)[:, 1]
        metrics["test"] = evaluate_origins(test, test_probs, cut, m.train_seed, decisive_flags(test_prepared))
    swap_frame = test if (test["board"] == "emscad").any() else val
    if (swap_frame["board"] == "emscad").any():
        metrics["format_swap"] = format_swap_report(classifier, swap_frame, cut, seed=m.train_seed)
    heldout = None
    if scored is not None:
        margin = unseen["margin"] if unseen else _margin_at(classifier, cut)
        heldout = {
            "protocol": "train+validation rows; each real legitimate board left out whole; real scam boards in folds grouped by company; written corpus in folds grouped by group",
            "fits": int(scored["set"].nunique()),
            "rows_scored": len(scored),
            "threshold_margin": margin,
            "threshold_choice": unseen,
            **summarize_held_out(scored, margin, seed=m.train_seed),
        }

    details = {
        "heldout": heldout,
        "seeds": {"split_seed": args.data.split_seed, "train_seed": m.train_seed},
        "params": {**asdict(m), "split_seed": args.data.split_seed, "n_train": len(train), "n_validation": len(val), "n_test": len(test)},
        "redflag_ruleset": engine.ruleset.fingerprint,
        "scam_kind_heads": heads.n_train_ if heads is not None else None,
        "libraries": library_versions(),
        "training_seconds": round(time.time() - started, 1),
    }
    run_files = {"metrics.json": metrics}
    if scored is not None:
        run_files |= {"heldout.json": heldout, "heldout_margins.csv.gz": scored}
    return finish_training(
        "baseline",
        args,
        splits,
        description="Word 1-2-gram and character 2-5-gram TF-IDF (hashed), red-flag and metadata features, class-weighted "
        "logistic regression with cross-fitted sigmoid calibration.",
        threshold=threshold,
        metrics=metrics,
        details=details,
        files=estimator_files(model, "model") | (estimator_files(heads, "kinds") if heads is not None else {}),
        run_files=run_files,
        split_columns=["id", "source", "board", "origin", "lang", "label", "group", "split"],
        tables=summary_tables(metrics, heldout, threshold),
        headline=f"threshold {cut:.6f} ({threshold['rule']})",
    )


def _margin_at(classifier: BaselineClassifier, probability: float) -> float:
    """The margin at which the final model's probability equals `probability` (one sigmoid member)."""
    from lurescan.model.baseline import sigmoid_linear_members

    members = sigmoid_linear_members(classifier.calibrated_)
    if not members or len(members) != 1:
        return float("nan")
    a, b = members[0].calibrators[0].a_, members[0].calibrators[0].b_
    p = min(max(probability, 1e-12), 1 - 1e-12)
    return float((np.log(1 / p - 1) - b) / a)


def summary_tables(metrics: dict, heldout: dict | None, threshold: dict) -> str:
    """What `lurescan train` prints: per split and origin, the held-out rates, the format swap."""
    out = []
    for split_name in ("validation", "test"):
        for origin, section in (metrics.get(split_name) or {}).items():
            out.append(f"\n{split_name}, {origin} ads:\n" + format_table({"all": section["overall"], **section["by_board"]}))
    if heldout:
        rows = {f"left out: {b}": e["false_positive_rate"] for b, e in heldout["legitimate_boards"].items()}
        rows |= {f"unseen companies: {b} (recall)": e["recall"] for b, e in heldout["scam_boards_unseen_companies"].items()}
        if heldout.get("written"):
            rows |= {f"written folds ({k})": v for k, v in heldout["written"].items()}
        out.append("\nheld out (set by {}):".format(threshold.get("set_by_board", "-")))
        for name, r in rows.items():
            out.append(f"  {name}: {r['value']} [{r['ci95'][0] if r['ci95'] else '-'}, {r['ci95'][1] if r['ci95'] else '-'}] n={r['n']}{' (few)' if r['few'] else ''}")
    if "format_swap" in metrics:
        out.append("\nformat swap: " + json.dumps(metrics["format_swap"]))
    return "\n".join(out)
