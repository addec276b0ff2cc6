"""Reasons: spans of a listing's read text turned into `Reason`s that point at the fields as sent.

The one place where an offset in the normalised text becomes an offset in
what the caller sent. Red-flag matches (`red_flag_reasons`) and the n-gram
evidence of explain.py both go through `reason_at`, so every reason's span
obeys `field[start:end] == text` the same way.
"""

from __future__ import annotations

import logging

from .features import PreparedListing
from .redflags.engine import RedFlagMatch
from .results import Reason

log = logging.getLogger(__name__)

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
MAX_REASONS = 20


def reason_at(prepared: PreparedListing, field: str, start: int, end: int, **attributes) -> Reason | None:
    """A Reason for [start, end) of `field`'s read text, its span mapped to the field as sent."""
    mapped = prepared.raw_map(field)
    if mapped.text != prepared.clean_fields[field]:  # pragma: no cover - guarded by tests/model/test_reasons.py
        log.warning("normalisation mismatch in field %s; span skipped", field)
        return None
    raw_start, raw_end = mapped.to_raw(start, end)
    return Reason(field=field, start=raw_start, end=raw_end, text=mapped.raw[raw_start:raw_end], **attributes)


def red_flag_reasons(prepared: PreparedListing, max_reasons: int = MAX_REASONS) -> list[Reason]:
    """The listing's risk red flags as reasons, most severe first, then by field and position."""
    reasons = [reason for m in prepared.matches if m.kind == "risk" and (reason := _match_reason(prepared, m))]
    reasons.sort(key=lambda r: (SEVERITY_ORDER.get(r.severity, 3), r.field, r.start))
    return reasons[:max_reasons]


# What a red-flag match tells a moderator, carried onto its reason as is.
_MATCH_ATTRIBUTES = ("category", "severity", "explanation", "rule_id", "scam_kind", "decisive")


def _match_reason(prepared: PreparedListing, m: RedFlagMatch) -> Reason | None:
    return reason_at(prepared, m.field, m.start, m.end, **{name: getattr(m, name) for name in _MATCH_ATTRIBUTES})
