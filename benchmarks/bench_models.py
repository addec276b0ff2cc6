"""Baseline, fine-tuned transformer (ONNX fp32 and int8) and ensemble, side by side.

    python benchmarks/bench_models.py --transformer artifacts/transformer \\
        [--shared-data ../shared/data] [--corpus-dir data/corpus] [--out artifacts/bench]

The transformer bundle is built beforehand by `lurescan finetune` (tens of
minutes on 2 CPU cores, a minute on one GPU); its run folder
(`artifacts/transformer.run/onnx/`) holds both ONNX variants. This script
uses the same loaders, deduplication and grouped split (`prepare_splits`),
refuses a transformer trained on another split, then:

1. trains the baseline (`lurescan train`'s main; timed) unless `--baseline`
   is given, and builds the ensemble (`lurescan ensemble`'s main; timed);
2. scores the test split with each model through `Scorer` (what `lurescan
   score` and the API run: normalisation, red flags, model): PR-AUC, recall
   at 1% FPR, F1 at the model's stored threshold, per language;
3. measures scoring throughput (listings/s on one batch of 256, best of
   three rounds) and single-listing latency (`Scorer.score` on one listing,
   median and p95), with the models interleaved so that the load of a shared
   machine hits all of them alike, and the bundle size;
4. measures CPU fine-tuning speed of the base model (a few AdamW steps at
   the bundle's max length, batch 16) to put the recorded training time in
   context when training ran elsewhere.

Writes JSON (`--out/bench_models.json`) and prints the tables. The machine's
load average is recorded: on a shared 2-core machine timings move with it.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lurescan.model.bundle import read_bundle
from lurescan.model.features import prepare_many
from lurescan.model.predictors import Predictor
from lurescan.model.scoring import Scorer, load_scorer
from lurescan.model.transformer_scorer import OnnxListingClassifier, batch_size_for, classifier_from_bundle
from lurescan.training.arguments import DataArgs, EnsembleArgs, TrainArgs, arg, command
from lurescan.training.data import frame_to_listings
from lurescan.training.evaluate import evaluate_split
from lurescan.training.metrics import format_table
from lurescan.training.split import prepare_splits

REPO = Path(__file__).resolve().parents[1]


@dataclass
class BenchArgs:
    transformer: str = arg(help="Transformer bundle from `lurescan finetune` (its .run/onnx holds both variants).")
    shared_data: str = arg(os.environ.get("LURESCAN_SHARED_DATA", str(REPO.parent / "shared" / "data")), "The shared data folder.")
    corpus_dir: str = arg(str(REPO / "data" / "corpus"), "The project's corpus (*.jsonl); the transformer's training files.")
    out: str = arg(str(REPO / "artifacts" / "bench"), "Where bench_models.json is written.")
    baseline: str | None = arg(None, "Existing baseline bundle trained on the same split (default: train one).")
    ensemble: str | None = arg(None, "Existing ensemble bundle (default: build one).")
    latency_listings: int = arg(50, "Listings timed one by one.")
    throughput_batch: int = arg(256, "Listings in the throughput batch.")
    throughput_rounds: int = arg(3, "Throughput rounds (best and median reported).")
    cpu_train_steps: int = arg(6, "AdamW steps timed for CPU fine-tuning speed (0: skip).")


def data_files(shared: Path, corpus: Path) -> list[str]:
    files = sorted(shared.glob("*.csv.gz")) + sorted(shared.glob("*/*_text_label.csv")) + sorted(corpus.glob("*.jsonl"))
    if not files:
        raise SystemExit(f"no data under {shared} or {corpus}")
    return [str(f) for f in files]


def bundle_megabytes(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def variant_megabytes(bundle_path: Path, variant: str) -> float:
    """What the bundle would weigh shipping `variant`: the bundle with its model.onnx swapped."""
    shipped = (bundle_path / "model.onnx").stat().st_size
    other = (Path(str(bundle_path) + ".run") / "onnx" / f"model.{variant}.onnx").stat().st_size
    return round(bundle_megabytes(bundle_path) + (other - shipped) / 2**20, 1)


def variant_scorer(bundle_path: Path, variant: str) -> tuple[Scorer, float]:
    """A Scorer over one ONNX variant of a transformer bundle, with that variant's calibration and threshold."""
    bundle = read_bundle(bundle_path)
    info = bundle.manifest["onnx"]["variants"][variant]
    onnx_path = Path(str(bundle_path) + ".run") / "onnx" / f"model.{variant}.onnx"
    shipped = classifier_from_bundle(bundle)
    classifier = OnnxListingClassifier(onnx_path, shipped.encoder, shipped.pad_id, info["calibration"], batch_size=batch_size_for(variant))
    return Scorer(bundle, Predictor(classifier.scam_probability, int(bundle.manifest["input"]["max_chars"]))), float(
        info["threshold"]["threshold"]
    )


def throughput(scorers: dict, listings: list, rounds: int) -> dict:
    """Listings/s of `Scorer.scam_probability` on one batch, models interleaved round by round (load hits all alike)."""
    for scorer in scorers.values():
        scorer.scam_probability(listings[:8])  # warm-up: sessions, caches
    seen: dict[str, list[float]] = {name: [] for name in scorers}
    for _ in range(rounds):
        for name, scorer in scorers.items():
            started = time.perf_counter()
            scorer.scam_probability(listings)
            seen[name].append(len(listings) / (time.perf_counter() - started))
    return {name: {"best": round(max(v), 1), "median": round(statistics.median(v), 1)} for name, v in seen.items()}


def latency(scorers: dict, listings: list) -> dict:
    """Milliseconds of `Scorer.score([one listing])`, models interleaved listing by listing."""
    for scorer in scorers.values():
        for item in listings[:3]:
            scorer.score([item])
    seen: dict[str, list[float]] = {name: [] for name in scorers}
    for item in listings:
        for name, scorer in scorers.items():
            started = time.perf_counter()
            scorer.score([item])
            seen[name].append((time.perf_counter() - started) * 1000)
    out = {}
    for name, times in seen.items():
        times.sort()
        out[name] = {"median": round(statistics.median(times), 1), "p95": round(times[int(0.95 * (len(times) - 1))], 1)}
    return out


def cpu_training_speed(bundle_path: Path, train_frame, steps: int) -> dict:
    """Examples/s of AdamW steps on the bundle's base model at its max length, batch 16, on this machine."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from lurescan.model.transformer_input import ListingEncoder
    from lurescan.training.base_models import resolve_base_model

    manifest = read_bundle(bundle_path).manifest
    base = resolve_base_model(
        manifest["base_model"]["name"] if manifest["base_model"].get("weights_sha256") is None else None
    )
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=2)
    encoder = ListingEncoder(tokenizer.backend_tokenizer, max_length=manifest["input"]["max_length"])
    rows = train_frame.sample(n=16 * (steps + 1), random_state=0, replace=len(train_frame) < 16 * (steps + 1))
    encoded = encoder.encode(prepare_many(frame_to_listings(rows)))
    labels = torch.tensor(rows["label"].to_numpy())
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    model.train()
    elapsed = 0.0
    for step in range(steps + 1):  # step 0 warms up
        batch = encoded[16 * step : 16 * (step + 1)]
        width = max(len(e.input_ids) for e in batch)
        ids = torch.tensor([e.input_ids + [tokenizer.pad_token_id] * (width - len(e.input_ids)) for e in batch])
        mask = torch.tensor([[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in batch])
        types = torch.tensor([e.token_type_ids + [0] * (width - len(e.input_ids)) for e in batch])
        started = time.perf_counter()
        loss = model(
            input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels[16 * step : 16 * (step + 1)]
        ).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step:
            elapsed += time.perf_counter() - started
    per_second = 16 * steps / elapsed
    return {
        "examples_per_second": round(per_second, 2),
        "steps_measured": steps,
        "max_length": manifest["input"]["max_length"],
        "projected_seconds_per_epoch": round(len(train_frame) / per_second),
        "torch_threads": torch.get_num_threads(),
    }


def main(args: BenchArgs) -> dict:
    warnings.filterwarnings("ignore", message=".*red-flag rules.*")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    files = data_files(Path(args.shared_data), Path(args.corpus_dir))
    data_args = DataArgs(data=files)
    splits = prepare_splits(data_args, progress=False)
    split, train, val, test = splits.split, splits.train, splits.val, splits.test
    transformer = Path(args.transformer)
    trained_on = read_bundle(transformer).manifest["split"]["assignment_sha256"]
    if trained_on != split.as_dict()["assignment_sha256"]:
        raise SystemExit(
            f"{transformer}: trained on another split than {len(files)} files give now; rebuild it or pass the files it was trained on"
        )

    from lurescan.training.ensemble import main as ensemble_main
    from lurescan.training.train import main as train_main

    baseline = Path(args.baseline) if args.baseline else out / "baseline"
    if not args.baseline:
        train_main(TrainArgs(out=str(baseline), data=data_args, progress=False))
    ensemble = Path(args.ensemble) if args.ensemble else out / "ensemble"
    if not args.ensemble:
        ensemble_main(
            EnsembleArgs(
                out=str(ensemble), transformer=str(transformer), baseline=str(baseline), data=data_args, progress=False
            )
        )

    shipped = read_bundle(transformer).manifest["onnx"]["variant"]
    models = {
        "baseline": (load_scorer(baseline), None, baseline),
        "transformer-fp32": (*variant_scorer(transformer, "fp32"), transformer),
        "transformer-int8": (*variant_scorer(transformer, "int8"), transformer),
        f"ensemble ({shipped})": (load_scorer(ensemble), None, ensemble),
    }
    listings = frame_to_listings(test)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(listings))
    speed_batch = [listings[i] for i in order[: args.throughput_batch]]
    latency_sample = [listings[i] for i in order[: args.latency_listings]]
    results = {}
    for name, (scorer, threshold, path) in models.items():
        probs = np.concatenate([scorer.scam_probability(listings[i : i + 512]) for i in range(0, len(listings), 512)])
        cut = scorer.threshold if threshold is None else threshold
        metrics = evaluate_split(test, probs, cut)
        manifest = read_bundle(path).manifest
        results[name] = {
            "overall": metrics["overall"],
            "by_language": metrics["by_language"],
            "threshold": round(cut, 4),
            "bundle_mb": variant_megabytes(path, name.split("-")[1])
            if name.startswith("transformer-")
            else bundle_megabytes(path),
            "training_seconds": manifest.get("training_seconds"),
            "training_device": manifest.get("params", {}).get("device", "cpu (this machine)"),
        }
        print(f"{name}: PR-AUC {metrics['overall']['pr_auc']}", flush=True)
    scorers = {name: scorer for name, (scorer, _, _) in models.items()}
    for name, value in throughput(scorers, speed_batch, args.throughput_rounds).items():
        results[name]["throughput_listings_per_s"] = value
    for name, value in latency(scorers, latency_sample).items():
        results[name]["latency_ms"] = value
    cpu_training = cpu_training_speed(transformer, train, args.cpu_train_steps) if args.cpu_train_steps else None

    report = {
        "args": asdict(args),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "split": {
            "assignment_sha256": split.as_dict()["assignment_sha256"],
            "rows": {"train": len(train), "validation": len(val), "test": len(test)},
        },
        "models": results,
        "transformer_cpu_training": cpu_training,
    }
    (out / "bench_models.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_tables(report)
    return report


def print_tables(report: dict) -> None:
    rows = {}
    for name, r in report["models"].items():
        o = r["overall"]
        rows[name] = {
            "pr_auc": o["pr_auc"],
            "recall@1%fpr": o["recall_at_1pct_fpr"],
            "f1@thr": o["f1"],
            "precision": o["precision"],
            "recall": o["recall"],
            "fpr": o["false_positive_rate"],
            "threshold": r["threshold"],
            "listings/s": r["throughput_listings_per_s"]["best"],
            "latency_ms_p50": r["latency_ms"]["median"],
            "latency_ms_p95": r["latency_ms"]["p95"],
            "bundle_MB": r["bundle_mb"],
            "train_s": r["training_seconds"],
            "trained_on": r["training_device"],
        }
    print(
        f"\ntest split ({report['split']['rows']['test']} listings), {report['machine']['cpus']} CPUs, load average {report['machine']['load_average_before'][0]:.1f} -> {report['machine']['load_average_after'][0]:.1f}"
    )
    print(format_table(rows, columns=tuple(next(iter(rows.values())).keys())))
    languages = sorted({lang for r in report["models"].values() for lang in r["by_language"]})
    by_lang = {}
    for lang in languages:
        row = {}
        for name, r in report["models"].items():
            m = r["by_language"].get(lang, {})
            row["n"], row["scams"] = m.get("n"), m.get("scams")
            row[f"{name} pr_auc/f1/fpr"] = "/".join(
                "-" if m.get(k) is None else f"{m[k]:.3f}" for k in ("pr_auc", "f1", "false_positive_rate")
            )
        by_lang[lang] = row
    print("\nper language (test): PR-AUC / F1 at threshold / false-positive rate")
    print(format_table(by_lang, columns=tuple(next(iter(by_lang.values())).keys())))
    if report.get("transformer_cpu_training"):
        t = report["transformer_cpu_training"]
        print(
            f"\nCPU fine-tuning of the base model here: {t['examples_per_second']} examples/s at {t['max_length']} tokens "
            f"(batch 16, {t['torch_threads']} threads, {t['steps_measured']} steps) -> about {t['projected_seconds_per_epoch'] / 60:.0f} min per epoch"
        )


if __name__ == "__main__":
    import typer

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(command(main, BenchArgs, doc=__doc__.splitlines()[0]))
    app()
