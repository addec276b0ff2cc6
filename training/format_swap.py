"""Format-swap check: does the score follow the ad's content or EMSCAD's style?

Every real scam in the public data comes from EMSCAD, whose ads look unlike any
other board's: "US, TX, Houston" locations, anonymised #URL_…#, #EMAIL_…#,
#PHONE_…# tokens, HTML entities (&amp;), a company_profile / description /
requirements / benefits field split with line breaks stripped, Workable
boilerplate. A model can score "EMSCAD-looking" instead of "scam". Here
legitimate ads from other boards are rendered in EMSCAD's layout, and EMSCAD
scams in another board's plain layout (board-style location, contacts
written out, no placeholders); a style-robust model keeps their scores.

The renderers are pure functions of one row; the style data lives in
`resources/format_swap.yaml`.
"""

from __future__ import annotations

import hashlib
import html
import re
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from lurescan.model.listing import JobListing

from .boards import add_board_columns, board_info

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"']+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|vn|kr|kh|cn|id|co)(?:/[^\s<>\"']*)?\b", re.IGNORECASE)
EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE_RE = re.compile(r"(?<![\w#])\+?\d[\d\s().-]{7,}\d(?!\w)")
EMSCAD_TOKEN_RE = re.compile(r"#(URL|EMAIL|PHONE)_([0-9a-f]+)#")
EMSCAD_LOCATION_RE = re.compile(r"^\s*([A-Z]{2})\s*,\s*([^,]*?)\s*,\s*(.*?)\s*$")
# EMSCAD stripped line breaks, so a sentence runs into the next heading: "ControlsLocation".
RUN_TOGETHER_RE = re.compile(r"(?<=[a-z.!?:)])(?=[A-Z][a-z])")


@lru_cache(maxsize=1)
def style() -> dict:
    text = resources.files("lurescan.training").joinpath("resources/format_swap.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _clean(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def emscad_mask(text: str) -> str:
    """Contacts -> EMSCAD's anonymised tokens (#EMAIL_<sha256>#, #URL_…#, #PHONE_…#); emails first."""
    text = EMAIL_RE.sub(lambda m: f"#EMAIL_{_digest('email', m.group(0))}#", text)
    text = URL_RE.sub(lambda m: m.group(0) if m.group(0).startswith("#") else f"#URL_{_digest('url', m.group(0))}#", text)
    return PHONE_RE.sub(lambda m: f"#PHONE_{_digest('phone', m.group(0))}#", text)


def _emscad_field(lines: list[str]) -> str | None:
    """One EMSCAD field: masked, HTML-escaped, lines run together as in its scrape."""
    if not lines:
        return None
    return html.escape(emscad_mask("".join(line.strip() for line in lines if line.strip())), quote=False) or None


def split_sections(text: str) -> dict[str, list[str]]:
    """Plain ad text -> description / requirements / benefits lines, by the headings in format_swap.yaml."""
    headings = {k: tuple(h.casefold() for h in v) for k, v in style()["section_headings"].items()}
    out = {"description": [], "requirements": [], "benefits": []}
    current = "description"
    for line in text.splitlines():
        folded = line.strip().lstrip("-•*#:[ ").casefold()
        for section, starts in headings.items():
            if folded.startswith(starts):
                current = section
                break
        out[current].append(line)
    return out


def emscad_location(location: str, country: str) -> str | None:
    """'Hà Nội' on a Vietnamese board -> 'VN, , Hà Nội' (EMSCAD's 'country, region, city')."""
    location = _clean(location)
    if not location and not country:
        return None
    city = location.split(",")[0].strip()
    region = location.split(",")[1].strip() if "," in location else ""
    return f"{country or 'US'}, {region}, {city}"


def to_emscad_layout(row: dict) -> dict:
    """A board ad (canonical frame row) rendered as EMSCAD would have published it."""
    board = board_info(str(row.get("board") or "")) if row.get("board") else None
    country = board.country if board else ""
    body = "\n".join(_clean(row.get(f)) for f in ("description", "text") if _clean(row.get(f)))
    sections = split_sections(body)
    requirements = _clean(row.get("requirements"))
    benefits = _clean(row.get("benefits"))
    company = _clean(row.get("company")) or "Our company"
    templates = style()["company_profile_templates"]
    template = templates[int(_digest("profile", str(row.get("id", company)))[:8], 16) % len(templates)]
    salary = re.findall(r"\d[\d,.]*", _clean(row.get("salary")))
    return {
        "title": _clean(row.get("title")) or None,
        "location": emscad_location(_clean(row.get("location")), country),
        "salary": "-".join(s.replace(",", "").replace(".", "") for s in salary[:2]) or None,
        "employment_type": style()["employment_type"],
        "company_profile": _emscad_field([template.format(company=company)]),
        "description": _emscad_field(sections["description"]),
        "requirements": _emscad_field(sections["requirements"] + ([requirements] if requirements else [])),
        "benefits": _emscad_field(sections["benefits"] + ([benefits] if benefits else [])),
        "language": _lang(row),
    }


def unmask(text: str) -> str:
    """EMSCAD's tokens -> plain contacts a board ad would show (deterministic from the token)."""

    def repl(m: re.Match) -> str:
        kind, digest = m.group(1), m.group(2)
        if kind == "EMAIL":
            return f"hr.{digest[:6]}@{digest[6:12]}.com"
        if kind == "URL":
            return f"https://www.{digest[:10]}.com"
        digits = "".join(str(int(c, 16) % 10) for c in digest[:10])
        return f"+1 {digits[:3]} {digits[3:6]} {digits[6:10]}"

    return EMSCAD_TOKEN_RE.sub(repl, text)


def _plain(value) -> str:
    """EMSCAD field -> plain board text: entities decoded, tokens unmasked, stripped line breaks restored."""
    text = unmask(html.unescape(_clean(value)))
    return RUN_TOGETHER_RE.sub("\n", text)


def board_location(location: str, location_style: str) -> str | None:
    """'US, TX, Houston' -> 'Houston' / 'Houston, TX' / 'Houston, United States' by the board's style."""
    location = _clean(location)
    m = EMSCAD_LOCATION_RE.match(location)
    if not m:
        return location or None
    country, region, city = m.groups()
    name = style()["country_names"].get(country, country)
    if location_style == "city_region":
        return ", ".join(p for p in (city, region) if p) or name
    if location_style == "city_country":
        return ", ".join(p for p in (city, name) if p)
    return city or region or name


def to_board_layout(row: dict, board: str) -> dict:
    """An EMSCAD ad (canonical frame row) rendered in `board`'s plain layout: one text field, no placeholders."""
    info = board_info(board)
    parts = [_clean(row.get("title"))] + [_plain(row.get(f)) for f in ("description", "requirements", "benefits", "text")]
    return {
        "title": _clean(row.get("title")) or None,
        "company": _clean(row.get("company")) or None,
        "location": board_location(_clean(row.get("location")), info.location_style if info else "city"),
        "salary": _clean(row.get("salary")) or None,
        "text": "\n\n".join(p for p in parts if p),
        "language": _lang(row),
    }


def _lang(row: dict) -> str | None:
    value = row.get("lang") or row.get("language")
    return value if isinstance(value, str) and value else None


def _listing(fields: dict) -> JobListing:
    return JobListing.model_validate({k: v for k, v in fields.items() if v is not None})


def _shift(before: np.ndarray, after: np.ndarray, threshold: float) -> dict:
    delta = after - before
    crossed = (before >= threshold) != (after >= threshold)
    return {
        "n": len(before),
        "mean_abs_delta": round(float(np.abs(delta).mean()), 4) if len(delta) else None,
        "max_abs_delta": round(float(np.abs(delta).max()), 4) if len(delta) else None,
        "mean_delta": round(float(delta.mean()), 4) if len(delta) else None,
        "crossed_threshold": int(crossed.sum()),
        "flagged_before": int((before >= threshold).sum()),
        "flagged_after": int((after >= threshold).sum()),
    }


def format_swap_report(classifier, frame: pd.DataFrame, threshold: float, n: int = 500, seed: int = 0, target_board: str | None = None) -> dict:
    """Score up to `n` legitimate non-EMSCAD real ads and `n` EMSCAD scams before and after swapping layouts.

    `classifier` is anything with predict_proba over JobListings. Reports
    mean |Δp|, max |Δp|, mean Δp and how many cross `threshold`, per
    direction. EMSCAD ads go to `target_board`'s layout (default:
    the board with the most English legitimate ads in the frame,
    else Glassdoor).
    """
    frame = add_board_columns(frame)
    from .data import frame_to_listings

    legit = frame[(frame["label"] == 0) & (frame["origin"] == "real") & (frame["board"] != "emscad")]
    scams = frame[(frame["label"] == 1) & (frame["board"] == "emscad")]
    if target_board is None:
        english = legit[legit["lang"] == "en"]["board"].value_counts()
        target_board = str(english.index[0]) if len(english) else "glassdoor"
    report = {"threshold": round(float(threshold), 6), "seed": seed}
    for name, rows, render in (
        ("legitimate_to_emscad", legit, to_emscad_layout),
        ("emscad_to_board", scams, lambda r: to_board_layout(r, target_board)),
    ):
        if rows.empty:
            continue
        rows = rows.sample(n=min(n, len(rows)), random_state=seed)
        before = classifier.predict_proba(frame_to_listings(rows))[:, 1]
        after = classifier.predict_proba([_listing(render(r)) for r in rows.to_dict("records")])[:, 1]
        report[name] = {**_shift(before, after, threshold), **({"target_board": target_board} if name == "emscad_to_board" else {})}
    return report
