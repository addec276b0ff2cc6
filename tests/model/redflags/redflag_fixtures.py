"""Shared helpers for the red-flag tests: the realistic ads in
tests/fixtures/redflags/*.yaml. (A plain module, imported by name: the test
layout has no __init__.py, and pytest puts this folder on sys.path.)"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from lurescan.model.features import prepare
from lurescan.model.listing import JobListing
from lurescan.model.redflags.engine import RedFlagMatch

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


def raw_matches(listing: JobListing, engine=None) -> list[RedFlagMatch]:
    """The scoring path's matches with their spans mapped to the fields as sent (as reasons are)."""
    prepared = prepare(listing, engine)
    out = []
    for m in prepared.matches:
        mapped = prepared.raw_map(m.field)
        start, end = mapped.to_raw(m.start, m.end)
        out.append(dataclasses.replace(m, start=start, end=end, text=mapped.raw[start:end]))
    return out
