"""Model bundles: a directory with safe weights, a manifest and a model card.

    bundle/
      manifest.json   what the model is, how it was made, sha256 of every file
      model.json      the estimator's structure and parameters (model/safe_state.py)
      model.safetensors  its arrays; or model.onnx + tokenizer.json ...
      README.md       the model card (Hugging Face layout)

Loading verifies the format, the kind, and every file's sha256 before any
weights are read, and estimators load only the types listed in
`safe_state.TRUSTED_CLASSES` (no pickle), so a corrupt, tampered or foreign bundle is refused with a
message that says which file and what is wrong. (The sha256 sums catch
corruption and edits of single files; they are not a signature.)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from . import safe_state
from .errors import LurescanError

BUNDLE_FORMAT = "lurescan-bundle"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
CARD_NAME = "README.md"
KNOWN_KINDS = ("baseline", "transformer", "ensemble")

class BundleError(LurescanError):
    """A bundle that cannot be used; the message names the bundle and the problem."""


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def default_bundle_path() -> Path:
    """The small baseline bundle shipped inside the package."""
    return Path(str(resources.files(__package__).joinpath("default_bundle")))


@dataclass(frozen=True)
class Bundle:
    path: Path
    manifest: dict

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def model_version(self) -> str:
        return self.manifest["model_version"]

    @property
    def threshold(self) -> float:
        return float(self.manifest["threshold"]["threshold"])

    @property
    def medium_threshold(self) -> float:
        return float(self.manifest["threshold"]["medium_risk_threshold"])

    def file(self, name: str) -> Path:
        if name not in self.manifest["files"]:
            raise BundleError(f"{self.path}: manifest lists no file '{name}'")
        return self.path / name


def write_bundle(out_dir: str | Path, manifest: dict, files: dict[str, bytes | Path], card: str) -> Path:
    """Write a complete bundle, atomically: a crash never leaves a half bundle at `out_dir`."""
    out_dir = Path(out_dir)
    if manifest.get("kind") not in KNOWN_KINDS:
        raise BundleError(f"{out_dir}: unknown bundle kind {manifest.get('kind')!r}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a server may run as another user
    try:
        hashes = {}
        for name, content in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, (bytes, bytearray)):
                target.write_bytes(content)
            else:
                shutil.copyfile(content, target)
            hashes[name] = sha256_file(target)
        (staging / CARD_NAME).write_text(card, encoding="utf-8")
        hashes[CARD_NAME] = sha256_file(staging / CARD_NAME)
        full = {"format": BUNDLE_FORMAT, "format_version": FORMAT_VERSION, **manifest, "files": hashes}
        (staging / MANIFEST_NAME).write_text(json.dumps(full, indent=2, ensure_ascii=False, sort_keys=False) + "\n", "utf-8")
        if out_dir.exists():
            backup = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(backup, ignore_errors=True)
            os.replace(out_dir, backup)
            os.replace(staging, out_dir)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def read_bundle(path: str | Path | None = None) -> Bundle:
    """Open and verify a bundle (default: the packaged one)."""
    path = Path(path) if path is not None else default_bundle_path()
    if not path.exists():
        raise BundleError(f"{path}: no such bundle directory")
    if not path.is_dir():
        raise BundleError(f"{path}: a bundle is a directory, this is a file")
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file():
        raise BundleError(f"{path}: not a lurescan bundle (no {MANIFEST_NAME})")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{manifest_path}: corrupt manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{manifest_path}: not a lurescan bundle manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{manifest_path}: bundle format version {manifest.get('format_version')!r}; this lurescan reads {FORMAT_VERSION}"
        )
    if manifest.get("kind") not in KNOWN_KINDS:
        raise BundleError(f"{manifest_path}: unknown bundle kind {manifest.get('kind')!r}")
    for key in ("model_version", "threshold", "files"):
        if key not in manifest:
            raise BundleError(f"{manifest_path}: manifest lacks '{key}'")
    _check_values(manifest_path, manifest)
    files = manifest["files"]
    if not isinstance(files, dict) or not files:
        raise BundleError(f"{manifest_path}: manifest lists no files")
    for name, expected in files.items():
        if not isinstance(expected, str) or len(expected) != 64:
            raise BundleError(f"{manifest_path}: file entry {name!r} has no sha256 (got {expected!r:.40})")
        target = (path / name).resolve()
        if path.resolve() not in target.parents:
            raise BundleError(f"{manifest_path}: file entry {name!r} points outside the bundle")
        if not target.is_file():
            raise BundleError(f"{path}: missing file {name}")
        actual = sha256_file(target)
        if actual != expected:
            raise BundleError(f"{path / name}: sha256 mismatch (file corrupt or modified): expected {expected[:12]}…, got {actual[:12]}…")
    return Bundle(path=path, manifest=manifest)


def _finite_share(value: object) -> bool:
    """A real number in [0, 1] (not NaN, not infinite, not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0.0 <= value <= 1.0


def _check_values(manifest_path: Path, manifest: dict) -> None:
    """The manifest's values a scorer relies on, refused with one line if unusable.

    A threshold of NaN loaded and flagged nothing (every comparison with NaN is
    false); one above 1 flags nothing either, one below 0 everything.
    """
    version = manifest["model_version"]
    if not isinstance(version, str) or not version.strip() or len(version) > 128:
        raise BundleError(f"{manifest_path}: model_version must be a non-empty text of at most 128 characters")
    threshold = manifest["threshold"]
    if not isinstance(threshold, dict):
        raise BundleError(f"{manifest_path}: threshold must be an object with threshold and medium_risk_threshold")
    for key in ("threshold", "medium_risk_threshold"):
        if key not in threshold:
            raise BundleError(f"{manifest_path}: threshold lacks '{key}'")
        if not _finite_share(threshold[key]):
            raise BundleError(f"{manifest_path}: threshold.{key} must be a number from 0 to 1 (got {threshold[key]!r:.40})")
    if threshold["medium_risk_threshold"] > threshold["threshold"]:
        raise BundleError(
            f"{manifest_path}: threshold.medium_risk_threshold ({threshold['medium_risk_threshold']:g}) is above "
            f"threshold.threshold ({threshold['threshold']:g})"
        )


def estimator_files(obj: Any, stem: str = "model") -> dict[str, bytes]:
    """A fitted estimator as bundle files: `<stem>.json` + `<stem>.safetensors`."""
    structure, tensors = safe_state.dumps(obj)
    return {f"{stem}.json": structure, f"{stem}.safetensors": tensors}


def load_estimator(bundle: Bundle, stem: str = "model") -> Any:
    """Load an estimator of a verified bundle; only allow-listed types load."""
    structure_path, tensors_path = bundle.file(f"{stem}.json"), bundle.file(f"{stem}.safetensors")
    try:
        return safe_state.loads(structure_path.read_bytes(), tensors_path.read_bytes())
    except safe_state.StateError as exc:
        raise BundleError(f"{structure_path}: {exc}") from exc
    except RecursionError:
        raise BundleError(f"{structure_path}: model structure nested too deeply") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        # A structure that passed the format check but does not describe an estimator.
        raise BundleError(f"{structure_path}: malformed model structure ({type(exc).__name__}: {exc!s:.200})") from None
