"""Feedback rows out to a training file, closing the loop from verdict to retraining.

Writes the canonical training layout (`id, source, lang, title, company,
location, salary, text, label`, then `description`, `requirements`,
`benefits`, `contact` and the other listing fields that any exported row
has, then the board's own `listing_id` and the moderator's `note`), so
`lurescan train --data FILE` reads it as is. Verdicts map to labels
scam=1, legitimate=0; `unsure` rows and rows stored without text are left
out, and so is a verdict a later one of the same key replaces (same
`stored_id` or same listing id: the current verdict counts, the history
stays in the table); a field a row lacks is written as "". Rows stream from the database
(server-side cursor on PostgreSQL, `yield_per` batches), so a large feedback
table is never held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from lurescan.model.tables import table_writer

from .db import Database, Feedback

CANONICAL_COLUMNS = ("id", "source", "lang", "title", "company", "location", "salary", "text", "label")
# Listing fields written after the canonical ones, when some exported row has them.
EXTRA_COLUMNS = (
    "description",
    "requirements",
    "benefits",
    "contact",
    "employment_type",
    "url",
    "company_profile",
    "html",
)
# What the board sent and the moderator wrote, written when some exported row has them.
METADATA_COLUMNS = ("listing_id", "note")
LABELS = {"scam": 1, "legitimate": 0}
TEXT_COLUMNS = ("title", "company", "location", "salary", "text") + EXTRA_COLUMNS


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    rows: int
    skipped_unsure: int
    skipped_no_text: int


def _current():
    """Rows no later verdict of the same key supersedes, on the same stored listing or the same board
    listing id: one current verdict per listing is exported, the history stays in the table."""
    later = aliased(Feedback)
    same_listing = or_(
        (later.stored_listing_id.is_not(None)) & (later.stored_listing_id == Feedback.stored_listing_id),
        (later.listing_id.is_not(None)) & (later.listing_id == Feedback.listing_id),
    )
    return ~exists().where(later.api_key == Feedback.api_key, later.id > Feedback.id, same_listing)


def _labelled_with_text():
    has_text = or_(
        *[getattr(Feedback, name).is_not(None) & (func.length(getattr(Feedback, name)) > 0) for name in TEXT_COLUMNS]
    )
    return Feedback.verdict.in_(tuple(LABELS)) & _current(), has_text


def export_feedback(
    db: Database, out: str | Path, source: str = "lurescan_feedback", chunk_rows: int = 1000
) -> ExportSummary:
    labelled, has_text = _labelled_with_text()
    with db.session() as session:
        present = [
            name
            for name in EXTRA_COLUMNS
            if session.scalar(
                select(func.count())
                .select_from(Feedback)
                .where(
                    labelled, has_text, getattr(Feedback, name).is_not(None), func.length(getattr(Feedback, name)) > 0
                )
            )
        ]
        present_meta = [
            name
            for name in METADATA_COLUMNS
            if session.scalar(
                select(func.count())
                .select_from(Feedback)
                .where(labelled, has_text, getattr(Feedback, name).is_not(None), func.length(getattr(Feedback, name)) > 0)
            )
        ]
        skipped_unsure = (
            session.scalar(
                select(func.count()).select_from(Feedback).where(Feedback.verdict.not_in(tuple(LABELS)), _current())
            )
            or 0
        )
        skipped_no_text = session.scalar(select(func.count()).select_from(Feedback).where(labelled, ~has_text)) or 0
        columns = list(CANONICAL_COLUMNS) + present + present_meta
        text_columns = [name for name in columns if name not in ("id", "source", "lang", "label")]
        # Plain rows, not ORM objects: nothing accumulates in the session while streaming.
        query = (
            select(
                Feedback.id, Feedback.language, Feedback.verdict, *[getattr(Feedback, name) for name in text_columns]
            )
            .where(labelled, has_text)
            .order_by(Feedback.id)
            .execution_options(yield_per=chunk_rows, stream_results=True)
        )
        rows = 0
        with table_writer(out) as writer:
            for partition in session.execute(query).partitions():
                records = [
                    {
                        "id": f"feedback-{row.id}",
                        "source": source,
                        "lang": row.language or "",
                        "label": LABELS[row.verdict],
                        # "" rather than null: one column type in every chunk (Parquet) and no NaN in CSV.
                        **{name: getattr(row, name) or "" for name in text_columns},
                    }
                    for row in partition
                ]
                writer.write(pd.DataFrame.from_records(records, columns=columns))
                rows += len(records)
            if rows == 0:
                writer.write(pd.DataFrame(columns=columns))
    return ExportSummary(Path(out), rows, int(skipped_unsure), int(skipped_no_text))
