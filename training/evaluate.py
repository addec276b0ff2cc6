"""Evaluate any bundle on labelled data: metrics JSON, tables and plots.

    lurescan evaluate --model DIR --data FILE... --out DIR

Real ads and the project's written ads are reported apart (`real`,
`written`), never pooled into one headline; each is sliced by language, board
and source, every rate has a bootstrap 95% interval (`ci95`), and a slice of
fewer than 30 ads says `few: true`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from lurescan.model.scoring import decisive_flags, load_scorer

from .arguments import EvaluateArgs
from .boards import add_board_columns
from .data import DataError, frame_to_listings, load_training_data
from .metrics import format_table, origin_metrics, sliced_metrics


def evaluate_split(frame: pd.DataFrame, probs: np.ndarray, threshold: float) -> dict:
    """Pooled metrics of one split, per language and source (the benchmarks' side-by-side tables)."""
    return sliced_metrics(frame["label"].to_numpy(), probs, threshold, {"language": frame["lang"].tolist(), "source": frame["source"].tolist()})


def evaluate_origins(
    frame: pd.DataFrame, probs: np.ndarray, threshold: float, seed: int = 0, by_rule: np.ndarray | None = None, also_by: tuple[str, ...] = ()
) -> dict:
    """Metrics of one split with real and written ads apart, per language, board, the columns in
    `also_by` and (written ads) scam kind.

    With `by_rule` (model.scoring.decisive_flags), the rates are those of the
    API's decision: a decisive trafficking rule flags an ad whatever its score.
    """
    frame = add_board_columns(frame)
    slices = {"language": frame["lang"].tolist(), "board": frame["board"].tolist()}
    slices |= {column: frame[column].tolist() for column in also_by}
    if "kind" in frame:
        slices["kind"] = frame["kind"].fillna("-").tolist()
    return origin_metrics(frame["label"].to_numpy(), probs, threshold, frame["origin"].tolist(), slices, seed=seed, by_rule=by_rule)


def plot_curves(y_true, prob, threshold: float, out_dir: Path, title: str) -> list[str]:
    """PR curve and reliability diagram as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve

    written = []
    y_true = np.asarray(y_true)
    if y_true.min() != y_true.max():
        precision, recall, _ = precision_recall_curve(y_true, prob)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.plot(recall, precision, lw=1.5)
        pred = prob >= threshold
        tp = (pred & (y_true == 1)).sum()
        ax.scatter([tp / max(y_true.sum(), 1)], [tp / max(pred.sum(), 1)], color="red", zorder=3, label=f"threshold {threshold:.3f}")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"PR curve: {title}")
        ax.legend(loc="lower left")
        fig.tight_layout()
        fig.savefig(out_dir / "pr_curve.png", dpi=120)
        plt.close(fig)
        written.append(str(out_dir / "pr_curve.png"))
    frac_pos, mean_pred = calibration_curve(y_true, prob, n_bins=10, strategy="uniform")
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    ax.plot(mean_pred, frac_pos, marker="o")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("fraction of scams")
    ax.set_title(f"Calibration: {title}")
    fig.tight_layout()
    fig.savefig(out_dir / "calibration.png", dpi=120)
    plt.close(fig)
    written.append(str(out_dir / "calibration.png"))
    return written


def main(args: EvaluateArgs) -> dict:
    scorer = load_scorer(args.model)
    data, files = load_training_data(args.data, args.hf_datasets, args.hf_split, args.hf_config, args.sep)
    if args.max_eval_samples and len(data) > args.max_eval_samples:
        data = data.sample(n=args.max_eval_samples, random_state=0).sort_index()
    if data.empty:
        raise DataError("no rows to evaluate")
    listings = frame_to_listings(data)
    probs, by_rule = [], []
    for i in range(0, len(listings), args.batch_size):
        prepared = scorer.prepare(listings[i : i + args.batch_size])
        probs.append(scorer.scam_probability(prepared))
        by_rule.append(decisive_flags(prepared))
    probs = np.concatenate(probs)
    threshold = scorer.threshold if args.threshold is None else args.threshold
    data = add_board_columns(data)
    labels = data["label"].to_numpy()
    # The rates are those of the API's decision: a decisive trafficking rule flags an ad whatever its score.
    metrics = evaluate_origins(data, probs, threshold, by_rule=np.concatenate(by_rule), also_by=("source",))
    report = {
        "model": str(scorer.bundle.path),
        "model_version": scorer.model_version,
        "threshold": threshold,
        "data": [f.as_dict() for f in files],
        **metrics,
    }
    for origin, section in metrics.items():
        print(f"{origin} ads:\n" + format_table({"all": section["overall"]}))
        print(f"\n{origin} ads, per language:\n" + format_table(section["by_language"]))
        print(f"\n{origin} ads, per board:\n" + format_table(section["by_board"]) + "\n")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        report["plots"] = []
        for origin in metrics:
            mask = data["origin"].to_numpy() == origin
            folder = out / origin if len(metrics) > 1 else out
            folder.mkdir(parents=True, exist_ok=True)
            report["plots"] += plot_curves(labels[mask], probs[mask], threshold, folder, f"{scorer.model_version} ({origin} ads)")
        (out / "metrics.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print(f"\nwrote {out / 'metrics.json'} and {', '.join(report['plots'])}")
    else:
        print(json.dumps({origin: section["overall"] for origin, section in metrics.items()}))
    return report
