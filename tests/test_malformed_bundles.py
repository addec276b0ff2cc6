"""Every malformed bundle is refused by `lurescan score` with one line that
names the file and the problem, never a traceback (issue 15)."""

from __future__ import annotations

import shutil
import warnings

import pytest
from malformed_bundles import MALFORMED
from typer.testing import CliRunner

from lurescan.cli import app
from lurescan.model.bundle import BundleError, read_bundle

runner = CliRunner()


def test_there_are_many_kinds_of_malformed_bundle():
    assert len(MALFORMED) >= 21


@pytest.fixture
def good_bundle(small_bundle, tmp_path):
    path = tmp_path / "bundle"
    shutil.copytree(small_bundle, path)
    return path


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_score_refuses_malformed_bundle_with_one_line(kind, good_bundle):
    MALFORMED[kind](good_bundle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = runner.invoke(app, ["score", "--model", str(good_bundle), "--text", "Work in Cambodia, Telegram @hr"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output[:2000]
    assert str(good_bundle) in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "kind", ["threshold_nan", "threshold_above_one", "threshold_negative", "medium_threshold_infinite", "medium_above_threshold"]
)
def test_read_bundle_refuses_unusable_thresholds(kind, good_bundle):
    MALFORMED[kind](good_bundle)
    with pytest.raises(BundleError, match="threshold"):
        read_bundle(good_bundle)


@pytest.mark.parametrize("value", ["nan", "1.5", "-0.1"])
def test_score_refuses_threshold_option_out_of_range(value, small_bundle):
    result = runner.invoke(app, ["score", "--model", str(small_bundle), "--text", "hello", "--threshold", value])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"error: --threshold must be a number from 0 to 1 (got {float(value)})"]


def test_good_bundle_still_scores(good_bundle):
    result = runner.invoke(app, ["score", "--model", str(good_bundle), "--text", "Barista, part-time, Hanoi"])
    assert result.exit_code == 0, result.output
