"""The design card's layers: model/ imports neither bulk/, training/ nor serve/;
bulk/ (file scoring, the Ray engine) uses model/ only; serve/ imports neither
training/ nor bulk/; scoring and the API need no torch or datasets."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "model": ("lurescan.bulk", "lurescan.training", "lurescan.serve", "torch", "datasets", "transformers"),
    "bulk": ("lurescan.training", "lurescan.serve", "torch", "datasets", "transformers"),
    "serve": ("lurescan.bulk", "lurescan.training", "torch", "datasets", "transformers"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                package = ".".join(path.relative_to(REPO).with_suffix("").parts[: -node.level])
                base = "lurescan." + package if package else "lurescan"
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_static_imports_respect_layers(layer):
    offenders = []
    paths = list((REPO / layer).rglob("*.py"))
    assert paths, f"no Python files under {layer}/"
    for path in paths:
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_scoring_and_api_import_without_heavy_packages(small_bundle):
    code = f"""
import sys
from lurescan.model.scoring import load_scorer
from lurescan.serve.main import create_app
scorer = load_scorer({str(small_bundle)!r})
scorer.score([{{"text": "Free flights and housing, work in Poipet, contact Telegram @hr_job"}}])
heavy = [m for m in ("torch", "datasets", "transformers", "lurescan.training") if m in sys.modules]
print(",".join(heavy))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"scoring/API imported: {out}"


def test_file_scoring_imports_neither_training_nor_serve(small_bundle, tmp_path):
    """`lurescan score --input` runs on bulk/ and model/ alone."""
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text('title,text\nPacker,"Free flights and housing, work in Poipet, contact Telegram @hr_job"\n', "utf-8")
    code = f"""
import sys
from lurescan.bulk.local_engine import score_file
from lurescan.model.scoring import load_scorer
score_file(load_scorer({str(small_bundle)!r}), {str(src)!r}, {str(dst)!r}, progress=False)
heavy = [m for m in ("torch", "datasets", "transformers", "lurescan.training", "lurescan.serve") if m in sys.modules]
print(",".join(heavy))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"file scoring imported: {out}"
    assert dst.exists()
