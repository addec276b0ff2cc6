"""Rule coverage: every rule is exercised by at least one test text (its own
examples or a realistic ad), so no rule is dead weight or silently broken."""

from __future__ import annotations

from redflag_fixtures import FIXTURE_ADS, listing_of

from lurescan.model.features import prepare
from lurescan.model.redflags.engine import default_engine
from lurescan.model.textnorm import normalize


def test_every_rule_is_hit_by_some_test_text() -> None:
    engine = default_engine()
    hit: set[str] = set()
    for rule in engine.rules:
        for example in rule.examples:
            hit.update(r.id for r, _s, _e in engine.match_text(normalize(example).text))
    for ad in FIXTURE_ADS:
        hit.update(m.rule_id for m in prepare(listing_of(ad), engine).matches)
    never = sorted({r.id for r in engine.rules} - hit)
    assert not never, f"rules no test text exercises: {never}"


def test_realistic_ads_exercise_every_category_in_most_languages() -> None:
    """The fixture ads, not only the one-line examples, reach each risk category."""
    engine = default_engine()
    seen = {m.category for ad in FIXTURE_ADS for m in prepare(listing_of(ad), engine).matches}
    assert set(engine.ruleset.categories) <= seen, set(engine.ruleset.categories) - seen
