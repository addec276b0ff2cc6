"""The destination is context: a place name becomes a reason only when the ad
recruits across a border and shows lure signs.

A Phnom Penh bakery that names its own street, or a Khmer-language ad on a
Cambodian board for work in Cambodia, is local. The same city in a
Vietnamese-language ad that pays the flight, promises USD 1,500 for "typing"
and moves the talk to Telegram is the scam-compound lure. So a `destination`
match (context) is turned into a `high_risk_destination` reason (risk) only
when all of these hold:

- it is not in the company, company-profile or contact fields and not right after an address
  cue ("Address:", "địa chỉ", "地址"): an employer's own address never counts;
- the ad is not local: the board is not in the destination's country
  (`board_country`), and there is cross-border evidence: travel paid or
  arranged, an irregular visa, a route or border sign, cross-border words
  ("fly to", "出国", "đi nước ngoài") near the place, an audience in another
  country (`audience_country`), or a language that is not local there;
- there are lure signs besides: a medium or high risk sign, or two low ones
  (off-platform contact and vague roles alone are not enough: local employers
  use WhatsApp and hire customer-service staff too).

Where places lie and which languages are local there is data
(`destinations.yaml`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from .rules import SEVERITY_LEVELS, RuleFileError

# Fields that hold the employer's own details, never a destination offered to the reader.
EMPLOYER_FIELDS = frozenset({"company", "company_profile", "contact", "url"})
# Risk signs that, with a place name, show recruiting across a border wherever they are.
CROSS_BORDER_RISKS = frozenset({"travel_costs_paid", "visa_irregular", "high_risk_destination", "debt_bondage"})
# Risk signs too common in honest local ads to count as the lure on their own.
WEAK_LURES = frozenset({"off_platform_contact", "lure_role"})
NEAR_CHARS = 80
ADDRESS_WINDOW = 40


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Destinations:
    country_of_place: dict[str, str]
    places: tuple[str, ...]  # every place name as written in destinations.yaml
    names: dict[str, str]
    local_languages: dict[str, frozenset[str]]
    address_cues: tuple[str, ...]

    def country(self, place: str, default: str | None = None) -> str | None:
        return self.country_of_place.get(_key(place), default)


def load_destinations(path: Path | None = None) -> Destinations:
    path = Path(path) if path else Path(str(resources.files(__package__).joinpath("destinations.yaml")))
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
        countries = data["countries"]
        places = {
            _key(place): code for code, spec in countries.items() for place in spec["places"]
        }
        return Destinations(
            country_of_place=places,
            places=tuple(place for spec in countries.values() for place in spec["places"]),
            names={code: spec["name"] for code, spec in countries.items()},
            local_languages={code: frozenset(spec.get("local_languages", [])) for code, spec in countries.items()},
            address_cues=tuple(_key(c) for c in data.get("address_cues", [])),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise RuleFileError(f"{path}: cannot read destinations: {exc}") from exc


@lru_cache(maxsize=1)
def default_destinations() -> Destinations:
    return load_destinations()


def _after_address_cue(text: str, start: int, cues: Sequence[str]) -> bool:
    before = _key(text[max(0, start - ADDRESS_WINDOW) : start])
    return any(cue in before for cue in cues)


def resolve_destinations(
    matches: Sequence,
    texts: Mapping[str, str],
    language: str | None = None,
    board_country: str | None = None,
    audience_country: str | None = None,
    destinations: Destinations | None = None,
) -> list:
    """`matches` plus a `high_risk_destination` risk match for each destination that qualifies.

    `texts` maps each field to the text the matches' offsets index. The
    context matches stay (the classifier may read them); the derived reasons
    keep the place's span and the destination rule's id.
    """
    places = [m for m in matches if m.category == "destination"]
    if not places:
        return list(matches)
    table = destinations or default_destinations()
    risks = [m for m in matches if m.kind == "risk"]
    lures = [m for m in risks if m.category not in WEAK_LURES]
    strong_lure = any(SEVERITY_LEVELS[m.severity] >= SEVERITY_LEVELS["medium"] for m in lures)
    if not (strong_lure or len({m.rule_id for m in lures}) >= 2):
        return list(matches)
    strong_cross = [m for m in risks if m.category in CROSS_BORDER_RISKS and (m.category != "travel_costs_paid" or m.severity != "low")]
    cross_words = [m for m in matches if m.category == "cross_border"]
    board = (board_country or "").upper() or None
    audience = (audience_country or "").upper() or None
    lang = (language or "").split("-")[0].lower() or None
    derived = []
    for m in places:
        if m.field in EMPLOYER_FIELDS:
            continue
        text = texts.get(m.field, "")
        if _after_address_cue(text, m.start, table.address_cues):
            continue
        country = table.country(m.text, m.country)
        if board is not None and country == board and audience in (None, board):
            continue  # a board in that country, for readers there: local
        evidence = (
            bool(strong_cross)
            or any(c.field == m.field and abs(c.start - m.start) <= NEAR_CHARS for c in cross_words)
            or (audience is not None and country is not None and audience != country)
            or (lang is not None and country is not None and lang not in table.local_languages.get(country, frozenset()))
        )
        if not evidence:
            continue
        where = table.names.get(country or "", "a scam-compound region")
        derived.append(
            replace(
                m,
                category="high_risk_destination",
                kind="risk",
                scam_kind="overseas_lure",
                explanation=f"Work in {where} ({m.text}) offered across a border, together with lure signs.",
                country=country,
            )
        )
    return list(matches) + derived


def resolve_listing_destinations(listing, matches: Sequence, texts: Mapping[str, str]) -> list:
    """`resolve_destinations` with the listing's own context: its language (detected when not given),
    board and audience. Listings without a destination match skip the language detection."""
    if not any(m.category == "destination" for m in matches):
        return list(matches)
    from ..language import detect_language

    language = listing.language or detect_language("\n".join(texts.values()))
    return resolve_destinations(matches, texts, language, listing.board_country, listing.audience_country)
