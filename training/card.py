"""Model cards in the Hugging Face layout, generated from a bundle's manifest.

The card is written for the people who decide whether to trust a score: what
the model was trained on (files, sha256, rows per label and source), how it
was split, how well it did per language and per source, and where it fails.
"""

from __future__ import annotations

from pathlib import PurePath

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


def _metrics_section(title: str, metrics: dict | None) -> str:
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


def _headline(metrics: dict | None) -> dict | None:
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


def _rate_cell(entry: dict | None) -> str:
    """`0.007 [0.004, 0.012] (n=1,042)`, with `few` below 30 ads."""
    if not entry or entry.get("value") is None:
        return "–"
    ci = entry.get("ci95") or [None, None]
    interval = f" [{ci[0]}, {ci[1]}]" if ci[0] is not None else ""
    return f"{entry['value']}{interval} (n={entry.get('n', '?')}{', few' if entry.get('few') else ''})"


def heldout_section(heldout: dict | None) -> str:
    """Leave-one-board-out and unseen-company figures at the shipped threshold: what a new board or a new scammer sees."""
    if not heldout:
        return ""
    lines = [
        "### Held out: boards and companies the model never saw",
        "",
        f"Protocol: {heldout.get('protocol', '')}. {heldout.get('fits', '?')} fits; every figure at the shipped threshold, "
        "with a bootstrap 95% interval.",
        "",
        "| left out | what | rate |",
        "|---|---|---|",
    ]
    for board, entry in (heldout.get("legitimate_boards") or {}).items():
        lines.append(f"| legitimate board `{board}` | false-positive rate | {_rate_cell(entry.get('false_positive_rate'))} |")
    for board, entry in (heldout.get("scam_boards_unseen_companies") or {}).items():
        lines.append(f"| real scams of unseen companies, `{board}` | recall | {_rate_cell(entry.get('recall'))} |")
    written = heldout.get("written") or {}
    if written:
        lines.append(f"| written corpus, unseen groups | recall | {_rate_cell(written.get('recall'))} |")
        lines.append(f"| written corpus, unseen groups | false-positive rate | {_rate_cell(written.get('false_positive_rate'))} |")
    return "\n".join(lines) + "\n"


def format_swap_lines(swap: dict | None) -> list[str]:
    """One line per direction of the format-swap check (the card's section and the README's table)."""
    lines = []
    for direction, entry in (swap or {}).items():
        if isinstance(entry, dict) and "mean_abs_delta" in entry:
            lines.append(
                f"- {direction.replace('_', ' ')}: {entry.get('n', '?')} ads, mean |shift| {entry['mean_abs_delta']}, "
                f"max {entry.get('max_abs_delta')}, mean shift {entry.get('mean_delta')}, "
                f"decisions changed {entry.get('crossed_threshold', '?')} (flagged {entry.get('flagged_before')} before, "
                f"{entry.get('flagged_after')} after)"
            )
    return lines


def format_swap_section(swap: dict | None) -> str:
    lines = format_swap_lines(swap)
    if not lines:
        return ""
    return "\n".join(["### Format swap: does the score follow the content or the source's layout?", "", *lines]) + "\n"


def display_path(path: str) -> str:
    """A training file as the card names it: relative paths as given, absolute ones by folder and name only
    (a card must not publish the trainer's directory layout)."""
    p = PurePath(str(path))
    if not p.is_absolute():
        return str(path)
    return "/".join(p.parts[-2:])


def front_matter(manifest: dict) -> str:
    """Hugging Face card metadata, written with a YAML dumper so it is always valid (no None, no local paths)."""
    languages = sorted({lang for lang in manifest.get("languages", []) if lang and lang != "und"})
    meta: dict = {
        "library_name": "lurescan",
        # The code is Apache-2.0; the weights are trained on board scrapes with no stated licence.
        "license": "other",
        "license_name": "research-use-training-data",
        "license_link": "https://github.com/lurescan/lurescan/blob/main/data/README.md",
        "pipeline_tag": "text-classification",
        "tags": ["job-scams", "human-trafficking-prevention", "fraud-detection", manifest["kind"]],
        "datasets": sorted({DATASET_IDS.get(_dataset_key(d.get("path", "")), "lurescan/corpus") for d in manifest.get("training_data", [])}),
    }
    if languages:
        meta["language"] = languages
    if manifest.get("base_model"):
        meta["base_model"] = manifest["base_model"]
    results = []
    for origin, label in (("real", "real ads (grouped test split)"), ("written", "written ads (grouped test split)")):
        section = ((manifest.get("metrics") or {}).get("test") or {}).get(origin) or {}
        overall = section.get("overall") or {}
        values = [
            {"type": t, "value": float(overall[k])}
            for t, k in (("average_precision", "pr_auc"), ("recall", "recall"), ("false_positive_rate", "false_positive_rate"))
            if overall.get(k) is not None
        ]
        if values:
            results.append({"task": {"type": "text-classification", "name": "scam job-ad detection"}, "dataset": {"type": f"lurescan-test-{origin}", "name": label}, "metrics": values})
    heldout = manifest.get("heldout") or {}
    unseen = []
    for board, entry in (heldout.get("legitimate_boards") or {}).items():
        value = (entry.get("false_positive_rate") or {}).get("value")
        if value is not None:
            unseen.append({"type": "false_positive_rate", "name": f"left-out board {board}", "value": float(value)})
    for board, entry in (heldout.get("scam_boards_unseen_companies") or {}).items():
        value = (entry.get("recall") or {}).get("value")
        if value is not None:
            unseen.append({"type": "recall", "name": f"unseen companies {board}", "value": float(value)})
    if unseen:
        results.append({"task": {"type": "text-classification", "name": "scam job-ad detection"}, "dataset": {"type": "lurescan-held-out", "name": "boards and companies left out of training"}, "metrics": unseen})
    if results:
        meta["model-index"] = [{"name": manifest["model_version"], "results": results}]
    import yaml

    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---"


# Training files -> the dataset they come from (Hugging Face `datasets` field).
DATASET_IDS = {
    "emscad": "emscad",
    "glassdoor": "glassdoor-data-science-jobs",
    "google": "google-job-skills",
    "wanted": "wanted-co-kr-jobs",
    "topcv": "topcv-vn-jobs",
    "camhr": "camhr-jobs",
    "careerviet": "careerviet-vietnamworks-jobs",
    "jobstreet": "jobstreet-id-jobs",
    "51job": "51job-jobs",
    "corpus": "lurescan/corpus",
}


def _dataset_key(path: str) -> str:
    name = str(path).replace("\\", "/").lower()
    return next((key for key in DATASET_IDS if key in name), "corpus")


WRITTEN_CORPUS = """\
The written corpus (`data/corpus`, CC BY 4.0) is the project's own: scam and honest ads in 11 languages (en, zh, ko,
ja, vi, th, id, ms, tl, km, my), written by the project's contributors after public warnings (FTC, ACCC, Korea's
National Police Agency, China's National Anti-Fraud Center, IOM and UNODC reports on scam compounds) and real
boards' formats, following `data/corpus/WRITING_GUIDE.md` and `KINDS_GUIDE.md`: every scam ad has an honest look-alike
in the same language and format, and every ad carries its scam kind. No victim's or employer's real data is in it.
Figures on written ads are reported apart from figures on real ads and are a means, never the goal.
"""


def render_card(manifest: dict, extra_sections: str = "") -> str:
    threshold = manifest["threshold"]
    front = [front_matter(manifest)]
    data_lines = [
        f"| `{display_path(d['path'])}` | {d['rows']} | {d['labels'].get('1', 0)} | {d['labels'].get('0', 0)} | `{d['sha256'][:16]}…` |"
        for d in manifest.get("training_data", [])
    ]
    split = manifest.get("split", {})
    dedup = manifest.get("dedup", {})
    body = f"""
# lurescan model `{manifest['model_version']}`

A **{manifest['kind']}** classifier that scores job ads for job scams of every documented kind: the overseas
scam-compound lure (fake "high pay, no experience, flights and housing provided, contact us on Telegram" ads that
lure jobseekers into forced scam work in Cambodia, Myanmar and Laos), fake cheques, reshipping, money mules, upfront
fees, task scams, identity harvesting, chat-only interviews, webmail hiring and pyramid pay, with one score per kind. Created {manifest.get('created_at', '?')} with lurescan
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

Seeds: {manifest.get('seeds', {})}. Parameters: `{manifest.get('params', {})}`

Per-category scores: {"scam-kind heads trained on " + str(manifest['scam_kind_heads']) if manifest.get('scam_kind_heads') else "no scam-kind heads (the rules' shares are used)"}.

## How the written corpus was made

{WRITTEN_CORPUS}
## Evaluation

Real ads and written ads are reported apart, never pooled; every rate has a bootstrap 95% interval, and slices of
fewer than 30 ads say `few`.

{heldout_section(manifest.get('heldout'))}
{format_swap_section((manifest.get('metrics') or {}).get('format_swap'))}
{_metrics_section("Held-out test split (grouped)", (manifest.get('metrics') or {}).get('test'))}
{_metrics_section("Validation split (used to choose the threshold)", (manifest.get('metrics') or {}).get('validation'))}
{extra_sections}
## Environment

{", ".join(f"{k} {v}" for k, v in manifest.get('libraries', {}).items())}
"""
    return "\n".join(front) + "\n" + body
