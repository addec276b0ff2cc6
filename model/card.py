"""Model cards in the Hugging Face layout, generated from a bundle's manifest.

The card is written for the people who decide whether to trust a score: what
the model was trained on (files, sha256, rows per label and source), how it
was split, how well it did per language and per source, and where it fails.
"""

from __future__ import annotations

from typing import Optional

METRIC_COLUMNS = ("n", "scams", "pr_auc", "recall_at_1pct_fpr", "precision", "recall", "f1", "false_positive_rate", "brier", "ece")

LIMITATIONS = """\
- The only real scams in the public data come from one platform and era (EMSCAD, Workable, 2012-14), and
  every real legitimate ad from other boards (Glassdoor, Google careers, Wanted, TopCV). A model trained on that
  mix learns *where an ad came from*; the project's own corpus (scams and legitimate ads written in the same
  languages and formats) is there to break the confound. The training-data table below says which sources this
  model used; read the leave-one-source-out table in the project README before trusting pooled figures.
- The project's corpus is written by the project, not collected from victims; real lures change wording quickly.
- Scores are calibrated on the validation split's mix of scams and legitimate ads, which has far more scams than a
  real job board. On a board where 1 ad in 1,000 is a lure, the same score means a lower real-world probability:
  use the threshold as a ranking cut-off and review flagged ads, do not auto-reject on the score alone.
- A flag is a reason for review, never proof. Legitimate overseas programmes (EPS, SSW, licensed agencies) share
  vocabulary with lures; mitigating signals (licence numbers, official programmes) are weighed, not trusted.
"""


def markdown_table(rows: dict[str, dict], columns=METRIC_COLUMNS) -> str:
    lines = ["| slice | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, m in rows.items():
        lines.append(f"| {name} | " + " | ".join("–" if m.get(c) is None else str(m.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def _metrics_section(title: str, metrics: Optional[dict]) -> str:
    """One split's tables; a split reported per origin (`real`, `written`: never pooled) gets one block each."""
    if not metrics:
        return ""
    if "overall" not in metrics:
        return "\n".join(_metrics_section(f"{title}: {origin} ads", part) for origin, part in metrics.items() if part)
    parts = [f"### {title}", "", markdown_table({"overall": metrics["overall"]})]
    for key, label in (("by_language", "Per language"), ("by_board", "Per board"), ("by_source", "Per source")):
        if metrics.get(key):
            parts += ["", f"{label}:", "", markdown_table(metrics[key])]
    return "\n".join(parts) + "\n"


def _headline(metrics: Optional[dict]) -> Optional[dict]:
    """The pooled figures of a split, or its real-ads figures when real and written ads are reported apart."""
    if not metrics:
        return None
    return metrics.get("overall") or (metrics.get("real") or {}).get("overall") or (metrics.get("written") or {}).get("overall")


def _threshold_rule(threshold: dict) -> str:
    if threshold["rule"] == "unseen_boards":
        return (
            f"the lowest score at which every legitimate board left out of training keeps a false-positive rate of at most "
            f"{threshold['max_unseen_fpr']} (set by `{threshold['set_by_board']}`; held-out margin {threshold['margin']:.4f})"
        )
    if threshold["rule"] == "target_precision":
        return "the lowest score reaching validation precision " + str(threshold["target_precision"])
    return "the validation split's best-F1 point (precision " + str(threshold["target_precision"]) + " was not reachable)"


# What the weights of each bundle kind can reveal about their training text.
WEIGHTS_NOTE = {
    "baseline": "the weights hold hashed n-gram statistics only, no training text.",
    "transformer": "the weights are a fine-tuned network, which can memorise fragments of its training text.",
    "ensemble": "the stacker holds a few coefficients; its members' cards say what their weights hold.",
}


def render_card(manifest: dict, extra_sections: str = "") -> str:
    languages = sorted({lang for lang in manifest.get("languages", []) if lang and lang != "und"})
    threshold = manifest["threshold"]
    test = _headline((manifest.get("metrics") or {}).get("test"))
    front = ["---", "library_name: lurescan", "license: apache-2.0", "pipeline_tag: text-classification"]
    if languages:
        front.append("language:")
        front += [f"- {lang}" for lang in languages]
    front += ["tags:", "- job-scams", "- human-trafficking-prevention", "- fraud-detection", f"- {manifest['kind']}"]
    if test and test.get("pr_auc") is not None:
        front += [
            "model-index:",
            f"- name: {manifest['model_version']}",
            "  results:",
            "  - task: {type: text-classification, name: scam job-ad detection}",
            "    dataset: {type: lurescan-grouped-test-split, name: held-out grouped test split}",
            "    metrics:",
            f"    - {{type: average_precision, value: {test['pr_auc']}}}",
            f"    - {{type: f1, value: {test['f1']}}}",
        ]
    front.append("---")

    data_lines = [
        f"| `{d['path']}` | {d['rows']} | {d['labels'].get('1', 0)} | {d['labels'].get('0', 0)} | `{d['sha256'][:16]}…` |"
        for d in manifest.get("training_data", [])
    ]
    split = manifest.get("split", {})
    dedup = manifest.get("dedup", {})
    body = f"""
# lurescan model `{manifest['model_version']}`

A **{manifest['kind']}** classifier that scores job ads for the overseas scam-compound recruitment pattern
(fake "high pay, no experience, flights and housing provided, contact us on Telegram" ads that lure jobseekers
into forced scam work in Cambodia, Myanmar and Laos). Created {manifest.get('created_at', '?')} with lurescan
{manifest.get('lurescan_version', '?')}.

## Model description

{manifest.get('description', '')}

## Intended uses and limitations

Intended for job boards (screening new listings before publication, in bulk), researchers (evaluation and
retraining) and browser-extension backends (warning a reader, with highlighted red flags). Not for
automated rejection without human review.

{LIMITATIONS}
## How to use

```bash
lurescan score --model PATH_TO_THIS_BUNDLE --input listings.csv --output scored.csv
lurescan serve --model PATH_TO_THIS_BUNDLE
```

## Decision threshold

`flagged = scam_probability >= {threshold['threshold']:.4f}`, chosen as
{_threshold_rule(threshold)}
(validation precision {threshold['validation_precision']:.3f}, recall {threshold['validation_recall']:.3f}{", each source weighted equally so that a small source of hard legitimate ads counts as much as a large easy one" if threshold.get('weighted') else ""}).
Risk levels: `high` at or above the threshold, `medium` from {threshold['medium_risk_threshold']:.4f}
(validation recall 0.95), `low` below.

## Training data

| file | rows used | scams | legitimate | sha256 |
|---|---|---|---|---|
{chr(10).join(data_lines)}

Deduplication: {dedup.get('exact_removed', 0)} exact and {dedup.get('near_removed', 0)} near duplicates removed
(MinHash Jaccard >= {dedup.get('remove_threshold', '?')}), {dedup.get('conflicting_labels_removed', 0)} rows with
conflicting labels dropped; reposts with Jaccard >= {dedup.get('group_threshold', '?')} share a group.

Split: {split.get('method', '?')}, seed {split.get('seed', '?')}; rows per split {({k: v['rows'] for k, v in split.get('counts', {}).items()})};
assignment sha256 `{split.get('assignment_sha256', '?')}`.
{"Companies regrouped by duplicate cluster (too large to be one group): " + ", ".join(split.get('large_companies_regrouped', [])) if split.get('large_companies_regrouped') else ""}

The public data (`../shared/data`) carries no stated licence (research and evaluation use); {WEIGHTS_NOTE[manifest['kind']]}
The project's own corpus (`data/`) is CC BY 4.0.

## Training procedure

Parameters: `{manifest.get('params', {})}`

## Evaluation

{_metrics_section("Held-out test split (grouped)", (manifest.get('metrics') or {}).get('test'))}
{_metrics_section("Validation split (used to choose the threshold)", (manifest.get('metrics') or {}).get('validation'))}
{extra_sections}
## Environment

{", ".join(f"{k} {v}" for k, v in manifest.get('libraries', {}).items())}
"""
    return "\n".join(front) + "\n" + body
