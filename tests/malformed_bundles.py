"""Malformed bundles, one per way a bundle can be broken (issue 15: 7 of 21
gave raw tracebacks from `lurescan score`). Each maker gets a fresh copy of
a good bundle and breaks it; `rehash` keeps the manifest's sha256 sums true,
so the break is found by what reads the file, not by the checksum."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path


def _manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text("utf-8"))


def _write_manifest(bundle: Path, manifest) -> None:
    (bundle / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def rehash(bundle: Path) -> None:
    manifest = _manifest(bundle)
    manifest["files"] = {
        name: hashlib.sha256((bundle / name).read_bytes()).hexdigest() for name in manifest["files"]
    }
    _write_manifest(bundle, manifest)


def _edit(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def make(bundle: Path) -> None:
        manifest = _manifest(bundle)
        change(manifest)
        _write_manifest(bundle, manifest)

    return make


def _file(name: str, content: bytes | Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def make(bundle: Path) -> None:
        path = bundle / name
        path.write_bytes(content(path.read_bytes()) if callable(content) else content)
        rehash(bundle)

    return make


def _model_json(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def make(bundle: Path) -> None:
        structure = json.loads((bundle / "model.json").read_text("utf-8"))
        change(structure)
        (bundle / "model.json").write_text(json.dumps(structure), "utf-8")
        rehash(bundle)

    return make


def _set(key: str, value) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        manifest[key] = value

    return change


def _threshold(**values) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        manifest["threshold"].update(values)

    return change


def _drop(key: str) -> Callable[[dict], None]:
    return lambda manifest: manifest.pop(key)


def _as_file(bundle: Path) -> None:
    shutil.rmtree(bundle)
    bundle.write_text("not a directory")


def _first_leaf(structure):
    """Replace the first class name in the structure by an untrusted one."""
    text = json.dumps(structure)
    for key in ('"class": "', '"type": "', '"__class__": "'):
        at = text.find(key)
        if at != -1:
            start = at + len(key)
            end = text.index('"', start)
            return json.loads(text[:start] + "os.system" + text[end:])
    return {"class": "os.system"}


def _untrusted(bundle: Path) -> None:
    structure = json.loads((bundle / "model.json").read_text("utf-8"))
    (bundle / "model.json").write_text(json.dumps(_first_leaf(structure)), "utf-8")
    rehash(bundle)


MALFORMED: dict[str, Callable[[Path], None]] = {
    "path_is_a_file": _as_file,
    "no_manifest": lambda b: (b / "manifest.json").unlink(),
    "manifest_not_json": lambda b: (b / "manifest.json").write_text("{not json"),
    "manifest_not_utf8": lambda b: (b / "manifest.json").write_bytes(b"\xff\xfe\x00garbage"),
    "manifest_is_a_list": lambda b: _write_manifest(b, [1, 2]),
    "wrong_format": _edit(_set("format", "other")),
    "wrong_format_version": _edit(_set("format_version", 99)),
    "unknown_kind": _edit(_set("kind", "pickle")),
    "no_model_version": _edit(_drop("model_version")),
    "model_version_not_text": _edit(_set("model_version", {"v": 1})),
    "no_threshold": _edit(_drop("threshold")),
    "threshold_nan": _edit(_threshold(threshold=float("nan"))),
    "threshold_above_one": _edit(_threshold(threshold=1.5)),
    "threshold_negative": _edit(_threshold(threshold=-0.1)),
    "threshold_not_a_number": _edit(_threshold(threshold="high")),
    "threshold_not_an_object": _edit(_set("threshold", 0.5)),
    "medium_threshold_missing": _edit(lambda m: m["threshold"].pop("medium_risk_threshold")),
    "medium_threshold_infinite": _edit(_threshold(medium_risk_threshold=float("inf"))),
    "medium_above_threshold": _edit(_threshold(medium_risk_threshold=0.99, threshold=0.5)),
    "files_not_an_object": _edit(_set("files", ["model.json"])),
    "file_outside_bundle": _edit(lambda m: m["files"].update({"../outside": "0" * 64})),
    "hash_not_text": _edit(lambda m: m["files"].update({"model.json": 5})),
    "missing_file": lambda b: (b / "model.safetensors").unlink(),
    "tampered_file": lambda b: (b / "model.json").write_text((b / "model.json").read_text() + " "),
    "file_is_a_directory": lambda b: ((b / "model.safetensors").unlink(), (b / "model.safetensors").mkdir()),
    "weights_truncated": _file("model.safetensors", lambda data: data[: len(data) // 2]),
    "weights_garbage": _file("model.safetensors", b"\x00" * 64),
    "weights_empty": _file("model.safetensors", b""),
    "structure_not_json": _file("model.json", b"{broken"),
    "structure_empty_object": _file("model.json", b"{}"),
    "structure_a_list": _file("model.json", b"[1, 2, 3]"),
    "structure_untrusted_class": _untrusted,
    "structure_deeply_nested": _file("model.json", b"[" * 100_000 + b"]" * 100_000),
}
