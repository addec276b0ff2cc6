"""Sample ads and helpers shared by the API tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

LOCAL = ("127.0.0.1", 50123)  # a loopback client, as open mode requires

SCAM_AD = (
    "URGENT hiring! Customer service staff to work in Cambodia, salary $3000/month, no experience needed, "
    "free flight and visa. Contact us on Telegram @jobfast now."
)
LEGIT_AD = "Barista, part-time, Hanoi. Morning shifts, training provided. Apply in store or on our website."


def copy_bundle(src: Path, dst: Path, model_version: str) -> Path:
    """A copy of a bundle under another version (the manifest is not among its hashed files)."""
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["model_version"] = model_version
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst
