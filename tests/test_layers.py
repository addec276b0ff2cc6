"""The design card's layers: model/ imports neither training/ nor serve/;
serve/ never imports training/; scoring and the API need no torch or datasets."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "model": ("lurescan.training", "lurescan.serve", "torch", "datasets", "transformers"),
    "serve": ("lurescan.training", "torch", "datasets", "transformers"),
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
    for path in (REPO / layer).rglob("*.py"):
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
