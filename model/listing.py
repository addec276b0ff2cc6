"""The one job-listing schema shared by training, scoring and the API.

Every reader (CSV/JSONL/Parquet, EMSCAD, Hugging Face datasets, the API's
JSON body) produces `JobListing` objects, so the classifier always sees the
same fields in the same order, whatever the source.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Fields that carry free text a reader sees, in the order the classifier
# assembles them: the short, high-signal fields first, the long body last.
TEXT_FIELDS: tuple[str, ...] = (
    "title",
    "company",
    "location",
    "salary",
    "employment_type",
    "contact",
    "url",
    "company_profile",
    "description",
    "requirements",
    "benefits",
    "text",
    "html",
)

# The classifier's window in characters: longer texts are read on head and tail
# (textview.head_tail). Red flags are still looked for in everything read.
MAX_CHARS = 6000

# The field that holds a whole page: read as a browser shows it (textnorm.normalize's `page`).
HTML_FIELD = "html"

# EMSCAD's boolean metadata, kept when a source has it. Only EMSCAD has these
# columns, so the default model does not learn from them (they would teach it
# "this came from EMSCAD" rather than "this is a scam"); see model card.
EMSCAD_FLAGS: tuple[str, ...] = ("telecommuting", "has_company_logo", "has_questions")


class JobListing(BaseModel):
    """A job ad as a board, a crawler or a browser extension sees it.

    All text fields are optional because sources differ (a chat message has
    only `text`, a board posting has structured fields, a web page has `html`);
    at least one must hold some text. `text` is the whole ad as plain text and
    `html` the raw page markup; both may be given alongside structured fields.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    id: str | None = Field(default=None, max_length=256, description="Caller's identifier, echoed back.")
    title: str | None = None
    company: str | None = None
    location: str | None = None
    salary: str | None = None
    employment_type: str | None = None
    contact: str | None = None
    url: str | None = None
    company_profile: str | None = None
    description: str | None = None
    requirements: str | None = None
    benefits: str | None = None
    text: str | None = Field(default=None, description="The whole ad as plain text.")
    html: str | None = Field(default=None, description="The ad as raw HTML: its visible text is read (see model/visible_text.py).")
    language: str | None = Field(
        default=None,
        description="BCP 47 tag of the ad's language if known (en, zh-Hant, pt-BR; ISO 639-1 where one exists); "
        "detected otherwise.",
        examples=["en"],
    )
    board_country: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2 code of the country the board serves (KH for a Cambodian board): an ad there for work there is local.",
        examples=["KH"],
    )
    audience_country: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2 code of the jobseekers the ad addresses, if not the board's own country.",
        examples=["VN"],
    )
    telecommuting: bool | None = None
    has_company_logo: bool | None = None
    has_questions: bool | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        # Ids from CSV or JSON may be numbers; they are echoed back as strings.
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def text_fields(self) -> list[tuple[str, str]]:
        """(field, value) for every non-blank text field, in TEXT_FIELDS order."""
        out = []
        for name in TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None and value.strip():
                out.append((name, value))
        return out

    def has_text(self) -> bool:
        return bool(self.text_fields())
