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
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            names.add(module)
            # `from package import module` imports the module too.
            names.update(f"{module}.{alias.name}" for alias in node.names)
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


def _module_graph() -> dict[str, set[str]]:
    """lurescan's modules and the project modules each imports, function-level (lazy) imports included."""
    roots = {"lurescan": "lurescan", "model": "lurescan.model", "bulk": "lurescan.bulk", "serve": "lurescan.serve", "training": "lurescan.training"}
    paths = {}
    for folder, package in roots.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            paths[".".join((package, *parts[: -1 if parts[-1] == "__init__" else None]))] = path

    def owner(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in paths.items():
        targets = set()
        for name in imported_modules(path):
            found = owner(name)
            if found and found != module and not module.startswith(found + "."):
                targets.add(found)
        graph[module] = targets
    return graph


def test_no_import_cycles():
    """No module reaches itself through imports, lazy ones inside functions included."""
    graph = _module_graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)
