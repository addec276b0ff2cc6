"""The API's database: moderators' feedback, and listings stored on request.

SQLAlchemy 2 on a SQLite file by default or PostgreSQL by URL
(`postgresql+psycopg://user@host/db`). Listing text lands here only with
feedback (it is what retraining needs) or when a score request says
`store: true`; scoring alone stores nothing. SQLite runs in WAL mode with
full fsync, so a row acknowledged to a client survives a killed server.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from lurescan.model.listing import TEXT_FIELDS

log = logging.getLogger("lurescan.serve")

# JobListing's text fields, stored as columns so exports can select them. The
# columns themselves are spelled out in ListingText (create_all does not migrate
# existing databases); tests/serve/test_db.py holds the two together.
LISTING_COLUMNS = TEXT_FIELDS

BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class ListingText:
    """The listing as the client sent it (every column optional)."""

    language: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    salary: Mapped[str | None] = mapped_column(Text)
    employment_type: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    company_profile: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    requirements: Mapped[str | None] = mapped_column(Text)
    benefits: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)


class Feedback(ListingText, Base):
    """A moderator's verdict on a scored listing, kept for retraining."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    api_key: Mapped[str] = mapped_column(String(80), index=True)
    listing_id: Mapped[str | None] = mapped_column(String(256), index=True)
    stored_listing_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    verdict: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(128))
    scam_probability: Mapped[float | None] = mapped_column(Float)


class FeedbackIdempotency(Base):
    """An `Idempotency-Key` a client sent with a feedback, and the row it created.

    A separate table (created on start in existing databases too): a retry
    after a lost acknowledgement finds its row here instead of adding a
    duplicate verdict. The unique constraint settles concurrent retries.
    """

    __tablename__ = "feedback_idempotency"
    __table_args__ = (UniqueConstraint("api_key", "key", name="uq_feedback_idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    api_key: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(128))
    request_sha256: Mapped[str] = mapped_column(String(64))
    feedback_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class StoredListing(ListingText, Base):
    """A scored listing kept because the client asked (`store: true`)."""

    __tablename__ = "scored_listings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    api_key: Mapped[str] = mapped_column(String(80), index=True)
    listing_id: Mapped[str | None] = mapped_column(String(256), index=True)
    model_version: Mapped[str] = mapped_column(String(128))
    scam_probability: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean)
    threshold: Mapped[float] = mapped_column(Float)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


class Database:
    """An engine and a session factory for one database URL."""

    def __init__(self, url: str):
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if not parsed.database or parsed.database == ":memory:" or "mode=memory" in url:
                # Every acknowledged row would be lost at restart, and each worker would have its own.
                raise ValueError(
                    f"database {url!r} is in memory: every stored verdict would be lost at restart; "
                    "give a file (sqlite:///lurescan.sqlite3) or a PostgreSQL URL"
                )
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"timeout": 15})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def create_tables(self) -> None:
        """Create missing tables; several workers starting at once may race, so retry once."""
        try:
            Base.metadata.create_all(self.engine)
        except DatabaseError:
            Base.metadata.create_all(self.engine)

    def check_writable(self) -> None:
        """Open a write transaction and roll it back: raises where a write would fail
        (a read-only SQLite file passed readiness, then failed every write with 500)."""
        with self.engine.connect() as conn, conn.begin() as tx:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS lurescan_write_probe (at INTEGER)")
            conn.exec_driver_sql("INSERT INTO lurescan_write_probe (at) VALUES (1)")
            tx.rollback()

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()
