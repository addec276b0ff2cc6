"""Build an "ensemble" bundle from a transformer and a baseline bundle, top to bottom.

    lurescan ensemble --transformer DIR --baseline DIR --data FILE... --out DIR

Load -> deduplicate -> grouped split (`prepare_splits`; both members must
have been trained on this very split, checked by its sha256) -> score the
validation split with both members -> fit `StackedClassifier` on validation
(out-of-fold probabilities, over grouped folds, choose the threshold) ->
evaluate on test beside the members -> bundle with `stacker.json`/`.safetensors` and
verified copies of both member bundles.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

from lurescan.model.bundle import MANIFEST_NAME, Bundle, BundleError, estimator_files, read_bundle, sha256_file
from lurescan.model.features import prepare_many
from lurescan.model.redflags.engine import default_engine
from lurescan.model.scoring import load_scorer
from lurescan.model.stacker import StackedClassifier, stack_features

from .arguments import EnsembleArgs
from .data import frame_to_listings
from .evaluate import evaluate_split
from .finish import finish_training, library_versions
from .metrics import format_table
from .split import prepare_splits
from .threshold import choose_threshold

log = logging.getLogger(__name__)

MEMBER_KINDS = {"transformer": "transformer", "baseline": "baseline"}


def out_of_fold_proba(stacker: StackedClassifier, X, y, groups) -> np.ndarray:
    """Each validation row scored by a stacker fitted without its fold (for an honest threshold)."""
    y = np.asarray(y).astype(int)
    out = np.zeros(len(y))
    for fit_rows, held_rows in stacker.folds(X, y, groups):
        model = clone(stacker).fit(X.iloc[fit_rows], y[fit_rows], groups=np.asarray(groups)[fit_rows])
        out[held_rows] = model.predict_proba(X.iloc[held_rows])[:, 1]
    return out


def member_record(bundle: Bundle, prefix: str) -> dict:
    return {
        "path": prefix,
        "kind": bundle.kind,
        "model_version": bundle.model_version,
        "manifest_sha256": sha256_file(bundle.path / MANIFEST_NAME),
        "source": str(bundle.path),
        **({"onnx_variant": bundle.manifest["onnx"]["variant"]} if "onnx" in bundle.manifest else {}),
    }


def member_files(bundle: Bundle, prefix: str) -> dict[str, Path]:
    """Every file of a verified member bundle, copied under `prefix/` (its manifest included)."""
    names = [*bundle.manifest["files"], MANIFEST_NAME]
    return {f"{prefix}/{name}": bundle.path / name for name in names}


def _card_sections(manifest: dict) -> str:
    coef = manifest["stacker"]["coefficients"]
    rows = "\n".join(f"| `{name}` | {value:+.3f} |" for name, value in sorted(coef.items(), key=lambda kv: -abs(kv[1])))
    members = "\n".join(
        f"- {name}: `{m['model_version']}` ({m['kind']}{', ONNX ' + m['onnx_variant'] if 'onnx_variant' in m else ''}), manifest sha256 `{m['manifest_sha256'][:16]}…`"
        for name, m in manifest["members"].items()
    )
    return f"""
## Ensemble details

Members (embedded copies, each verified on load):

{members}

Stacker: standardised features -> logistic regression (C={manifest["params"]["C"]}) -> sigmoid calibration,
cross-fitted over {manifest["params"]["cv"]} grouped folds of the validation split; the threshold was chosen on
out-of-fold validation probabilities. Coefficients (log-odds per standard deviation):

| feature | coefficient |
|---|---|
{rows}

Explanations: red-flag spans, plus (for listings at medium risk or above) the n-grams that add most to the
baseline member's margin (`model/explain.py`).
"""


def main(args: EnsembleArgs) -> dict:
    started = time.time()
    members = {"transformer": read_bundle(args.transformer), "baseline": read_bundle(args.baseline)}
    for name, bundle in members.items():
        if bundle.kind != MEMBER_KINDS[name]:
            raise BundleError(
                f"{bundle.path}: --{name} needs a '{MEMBER_KINDS[name]}' bundle, this is a '{bundle.kind}' bundle"
            )
    splits = prepare_splits(args.data, args.progress)
    val, test = splits.val, splits.test
    assignment = splits.split.as_dict().get("assignment_sha256")
    for bundle in members.values():
        theirs = (bundle.manifest.get("split") or {}).get("assignment_sha256")
        if theirs != assignment:
            raise BundleError(
                f"{bundle.path}: trained on another split (assignment {str(theirs)[:12]}…, this data gives {str(assignment)[:12]}…); "
                "train both members and the ensemble on the same --data and split seed"
            )
    scorers = {name: load_scorer(bundle.path) for name, bundle in members.items()}
    engine = default_engine()
    max_chars = scorers["baseline"].max_chars

    def stacked(frame):
        prepared = prepare_many(frame_to_listings(frame), engine, max_chars)
        scores = {name: scorer.scam_probability(prepared) for name, scorer in scorers.items()}
        return stack_features(scores["transformer"], scores["baseline"], prepared, engine.ruleset), scores

    X_val, _val_scores = stacked(val)
    y_val, groups = val["label"].to_numpy(), val["group"].to_numpy()
    stacker = StackedClassifier(C=args.C, cv=args.cv)
    oof = out_of_fold_proba(stacker, X_val, y_val, groups)
    threshold = choose_threshold(y_val, oof, target_precision=args.target_precision)
    stacker.fit(X_val, y_val, groups=groups)

    metrics = {"validation": evaluate_split(val, oof, threshold.threshold)}
    members_on_test = {}
    if len(test):
        X_test, test_scores = stacked(test)
        metrics["test"] = evaluate_split(test, stacker.predict_proba(X_test)[:, 1], threshold.threshold)
        for name, scorer in scorers.items():
            members_on_test[name] = evaluate_split(test, test_scores[name], scorer.threshold)["overall"]

    details = {
        "members": {name: member_record(bundle, name) for name, bundle in members.items()},
        "members_test_metrics": members_on_test,
        "stacker": {"features": list(X_val.columns), "coefficients": stacker.coefficients(), "fitted_on": "validation"},
        "params": {
            "C": args.C,
            "cv": args.cv,
            "target_precision": args.target_precision,
            "n_validation": len(val),
            "n_test": len(test),
        },
        "redflag_ruleset": engine.ruleset.fingerprint,
        "libraries": library_versions(),
        "training_seconds": round(time.time() - started, 1),
    }
    files: dict = estimator_files(stacker, "stacker")
    for name, bundle in members.items():
        files.update(member_files(bundle, name))
    rows = {"ensemble validation (out-of-fold)": metrics["validation"]["overall"]}
    if "test" in metrics:
        rows |= {"ensemble test": metrics["test"]["overall"], **{f"{k} test": v for k, v in members_on_test.items()}}
    return finish_training(
        "ensemble",
        args,
        splits,
        description="Calibrated logistic-regression stacker over the fine-tuned transformer's score, the n-gram "
        "baseline's score and red-flag features, fitted on the validation split (cross-fitted calibration).",
        threshold=threshold.as_dict(),
        metrics=metrics,
        details=details,
        files=files,
        run_files={"metrics.json": {"metrics": metrics, "members_test": members_on_test}},
        card_sections=_card_sections,
        tables=format_table(rows),
        headline=f"threshold {threshold.threshold:.4f} ({threshold.rule})  members: {', '.join(m.model_version for m in members.values())}",
    )
