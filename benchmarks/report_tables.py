"""Print the README's quality tables from the files the runs wrote, so the
README quotes exactly what was measured.

    python benchmarks/report_tables.py [--run benchmarks/results/default_model] [--bench benchmarks/results/bench_baseline.json]

`--run` is the default model's run folder (copied from runs/default-model.run
by `make default-model`): metrics.json (test split, real and written apart,
format swap) and heldout.json (left-out boards, unseen companies).
`--bench` is bench_baseline.py's output (plain, raw and lurescan recipes on
the same held-out sets).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lurescan.training.card import format_swap_lines

REPO = Path(__file__).resolve().parents[1]


def cell(entry: dict | None) -> str:
    if not entry or entry.get("value") is None:
        return "–"
    ci = entry.get("ci95") or [None, None]
    interval = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci[0] is not None else ""
    few = " (few)" if entry.get("few") else ""
    return f"{entry['value']:.3f}{interval}{few}"


def heldout_table(heldout: dict) -> str:
    lines = ["| left out of training | ads | metric | value [95% CI] |", "|---|---|---|---|"]
    for board, e in heldout["legitimate_boards"].items():
        r = e["false_positive_rate"]
        lines.append(f"| legitimate board `{board}` | {r['n']} | FPR | {cell(r)} |")
    for board, e in heldout["scam_boards_unseen_companies"].items():
        r = e["recall"]
        lines.append(f"| real scams, unseen companies (`{board}`) | {r['n']} | recall | {cell(r)} |")
    if heldout.get("written"):
        for key, name in (("recall", "recall"), ("false_positive_rate", "FPR")):
            r = heldout["written"][key]
            lines.append(f"| written corpus, unseen groups | {r['n']} | {name} | {cell(r)} |")
    return "\n".join(lines)


def _rate(overall: dict, name: str) -> str:
    value = overall.get(name)
    ci = (overall.get("ci95") or {}).get(name)
    if value is None:
        return "–"
    return f"{value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and ci[0] is not None else "")


def test_table(metrics: dict) -> str:
    lines = ["| test split | ads | scams | PR-AUC | recall | FPR | precision |", "|---|---|---|---|---|---|---|"]
    for origin in ("real", "written"):
        section = (metrics.get("test") or {}).get(origin)
        if not section:
            continue
        rows = {"all": section["overall"], **section.get("by_board", {})}
        for name, o in rows.items():
            few = " (few)" if o.get("few") else ""
            pr = f"{o['pr_auc']:.3f}" if o.get("pr_auc") is not None else "–"
            lines.append(
                f"| {origin}: {name}{few} | {o.get('n')} | {o.get('scams')} | {pr} | {_rate(o, 'recall')} | "
                f"{_rate(o, 'false_positive_rate')} | {_rate(o, 'precision')} |"
            )
    return "\n".join(lines)


def kind_table(metrics: dict) -> str:
    """Written test ads per scam kind: recall on the scams, FPR on the honest look-alikes of that kind."""
    section = (metrics.get("test") or {}).get("written") or {}
    lines = ["| written test ads, kind | scams | recall | flagged by a rule only | honest look-alikes | FPR |", "|---|---|---|---|---|---|"]
    for kind, o in sorted((section.get("by_kind") or {}).items()):
        few = " (few)" if o.get("few") else ""
        by_rule = (o.get("flagged_by_rule") or {}).get("scams", 0)
        lines.append(f"| {kind}{few} | {o.get('scams')} | {_rate(o, 'recall')} | {by_rule} | {o.get('legitimate')} | {_rate(o, 'false_positive_rate')} |")
    return "\n".join(lines)


def swap_lines(swap: dict) -> str:
    return "\n".join(format_swap_lines(swap))


def bench_table(bench: dict) -> str:
    recipes = list(bench["recipes"])
    lines = ["| left out | metric | " + " | ".join(recipes) + " |", "|---|---|" + "---|" * len(recipes)]
    boards = list(next(iter(bench["recipes"].values()))["legitimate_boards"])
    for board in boards:
        row = [cell(bench["recipes"][r]["legitimate_boards"].get(board, {}).get("false_positive_rate")) for r in recipes]
        lines.append(f"| `{board}` | FPR | " + " | ".join(row) + " |")
    scam_boards = list(next(iter(bench["recipes"].values()))["scam_boards_unseen_companies"])
    for board in scam_boards:
        row = [cell(bench["recipes"][r]["scam_boards_unseen_companies"][board]["recall"]) for r in recipes]
        lines.append(f"| real scams, unseen companies (`{board}`) | recall | " + " | ".join(row) + " |")
    row = [cell((bench["recipes"][r].get("written") or {}).get("recall")) for r in recipes]
    lines.append("| written corpus, unseen groups | recall | " + " | ".join(row) + " |")
    row = [f"`{bench['recipes'][r]['threshold']['set_by']}`" for r in recipes]
    lines.append("| threshold set by | | " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=REPO / "benchmarks" / "results" / "default_model")
    parser.add_argument("--bench", type=Path, default=REPO / "benchmarks" / "results" / "bench_baseline.json")
    args = parser.parse_args()
    metrics = json.loads((args.run / "metrics.json").read_text())
    heldout_path = args.run / "heldout.json"
    if heldout_path.exists():
        print("## Held out\n\n" + heldout_table(json.loads(heldout_path.read_text())) + "\n")
    print("## Test split\n\n" + test_table(metrics) + "\n")
    if ((metrics.get("test") or {}).get("written") or {}).get("by_kind"):
        print("## Written test ads by scam kind\n\n" + kind_table(metrics) + "\n")
    if metrics.get("format_swap"):
        print("## Format swap\n\n" + swap_lines(metrics["format_swap"]) + "\n")
    if args.bench.exists():
        bench = json.loads(args.bench.read_text())
        if "recipes" in bench:
            print("## Recipes on the same held-out sets\n\n" + bench_table(bench) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
