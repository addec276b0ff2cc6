"""Shared helpers for the red-flag tests: the realistic ads in
tests/fixtures/redflags/*.yaml. (A plain module, imported by name: the test
layout has no __init__.py, and pytest puts this folder on sys.path.)"""

from __future__ import annotations

from pathlib import Path

import yaml
from lurescan.model.listing import JobListing

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "redflags"


def load_fixture_ads() -> list[dict]:
    """Every ad of every fixture file, with its file's language added."""
    ads = []
    for path in sorted(FIXTURE_DIR.glob("*.yaml")):
        for ad in yaml.safe_load(path.read_text("utf-8"))["ads"]:
            ads.append({**ad, "lang": path.stem})
    return ads


FIXTURE_ADS = load_fixture_ads()


def listing_of(ad: dict) -> JobListing:
    return JobListing(**ad["listing"])
