"""What a transformer reads of a listing: shared by fine-tuning and ONNX scoring.

Training (`training/finetune.py`) and serving (`model/transformer_scorer.py`)
both call `ListingEncoder`, with the same `tokenizers.Tokenizer` loaded from
the same `tokenizer.json`, so the token ids a bundle scores are exactly the
ids it was trained on. It needs `tokenizers` only (no torch, no transformers).

Input layout, as a two-segment input (`[CLS] header [SEP] body [SEP]` for
BERT, `<s> header </s></s> body </s>` for RoBERTa-style models):

- **header**: the short fields that carry most signal, each with its name,
  in this order: title, company, location, salary, employment type,
  contact, url (`"title: ... | salary: ..."`);
- **body**: description, requirements, benefits, text, company profile,
  html (tags already stripped), one per line.

URLs, e-mail addresses and phone numbers are masked (`[URL]`, `[EMAIL]`,
`[PHONE]`) as for the baseline: one public source hides them and the others
do not, so unmasked they teach the model where an ad came from.

Truncation at `max_length` tokens (special tokens included): the header
keeps everything it needs up to `header_share` of the budget (more if the
body is short); the body gets the rest, and an over-long body keeps its
**head and tail** (`tail_share` of its budget from the end), because ads put
the pitch first and the "contact us on Telegram" instructions last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .features import PreparedListing, head_tail, mask_contacts

HEADER_FIELDS: tuple[str, ...] = ("title", "company", "location", "salary", "employment_type", "contact", "url")
BODY_FIELDS: tuple[str, ...] = ("description", "requirements", "benefits", "text", "company_profile", "html")
# Bumped whenever the layout above changes; bundles record it and the scorer checks it.
INPUT_FORMAT_VERSION = 1


def listing_segments(prepared: PreparedListing) -> tuple[str, str]:
    """(header, body) text of a prepared listing, contacts masked."""
    fields = prepared.clean_fields
    header = " | ".join(
        f"{name.replace('_', ' ')}: {mask_contacts(fields[name]).strip()}" for name in HEADER_FIELDS if name in fields
    )
    body = "\n".join(mask_contacts(fields[name]).strip() for name in BODY_FIELDS if name in fields)
    return header, body


@dataclass(frozen=True)
class EncodedListing:
    input_ids: list[int]
    token_type_ids: list[int]
    truncated: bool


class ListingEncoder:
    """Listing -> token ids with the documented head+tail truncation."""

    def __init__(self, tokenizer, max_length: int = 128, header_share: float = 0.5, tail_share: float = 0.25):
        from tokenizers import Tokenizer

        # A private copy with the file's own truncation/padding switched off:
        # the layout above decides what is kept, padding happens per batch.
        self.tokenizer = Tokenizer.from_str(tokenizer.to_str())
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.max_length = int(max_length)
        self.header_share = float(header_share)
        self.tail_share = float(tail_share)
        self.budget = self.max_length - self.tokenizer.num_special_tokens_to_add(is_pair=True)
        if self.budget < 8:
            raise ValueError(f"max_length {max_length} leaves {self.budget} tokens for text; use at least 16")
        self._layout = self._template()

    @classmethod
    def from_file(cls, path, **kwargs) -> ListingEncoder:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(path)), **kwargs)

    def params(self) -> dict:
        return {
            "max_length": self.max_length,
            "header_share": self.header_share,
            "tail_share": self.tail_share,
            "input_format_version": INPUT_FORMAT_VERSION,
        }

    def _lengths(self, n_header: int, n_body: int) -> tuple[int, int]:
        header_len = min(n_header, max(self.budget - n_body, int(self.budget * self.header_share)))
        return header_len, min(n_body, self.budget - header_len)

    def _template(self) -> tuple:
        """Where the tokenizer's post-processor puts its special tokens around two segments.

        Found once by post-processing two known segments, so any template works
        (BERT's `[CLS] A [SEP] B [SEP]`, RoBERTa's `<s> A </s></s> B </s>`). Ids
        are then cut and joined as plain lists: `Encoding.truncate` would keep
        every cut-off piece as an "overflowing" encoding and post-process them all.
        """
        for text_a, text_b in (("a", "b"), ("x", "y"), ("1", "2")):
            a = self.tokenizer.encode(text_a, add_special_tokens=False)
            b = self.tokenizer.encode(text_b, add_special_tokens=False)
            if a.ids and b.ids and a.ids != b.ids:
                break
        else:  # pragma: no cover - a tokenizer that cannot tell "a" from "b"
            raise ValueError("cannot find the tokenizer's special-token template")
        full = self.tokenizer.post_process(a, b, add_special_tokens=True)
        ids, types = list(full.ids), list(full.type_ids)
        n_a, n_b = len(a.ids), len(b.ids)
        i = next(k for k in range(len(ids)) if ids[k : k + n_a] == a.ids)
        j = next(k for k in range(i + n_a, len(ids)) if ids[k : k + n_b] == b.ids)
        return (
            (ids[:i], types[:i]),
            (ids[i + n_a : j], types[i + n_a : j]),
            (ids[j + n_b :], types[j + n_b :]),
            types[i],
            types[j],
        )

    def encode(self, prepared: Sequence[PreparedListing]) -> list[EncodedListing]:
        if not prepared:
            return []
        # Characters beyond ~32 per token can never be read: cut them before
        # tokenizing so a megabyte-long "ad" costs no more than a long one.
        cap = 32 * self.max_length
        segments = [(h[:cap], head_tail(b, cap)) for h, b in map(listing_segments, prepared)]
        encs = self.tokenizer.encode_batch([s for pair in segments for s in pair], add_special_tokens=False)
        (pre_ids, pre_types), (mid_ids, mid_types), (post_ids, post_types), type_a, type_b = self._layout
        out = []
        for header, body in zip(encs[0::2], encs[1::2]):
            header_ids, body_ids = header.ids, body.ids
            header_len, body_len = self._lengths(len(header_ids), len(body_ids))
            truncated = len(header_ids) > header_len or len(body_ids) > body_len
            header_ids = header_ids[:header_len]
            if len(body_ids) > body_len:
                tail_len = min(int(body_len * self.tail_share), body_len)
                body_ids = body_ids[: body_len - tail_len] + (body_ids[len(body_ids) - tail_len :] if tail_len else [])
            out.append(
                EncodedListing(
                    input_ids=pre_ids + header_ids + mid_ids + body_ids + post_ids,
                    token_type_ids=pre_types
                    + [type_a] * len(header_ids)
                    + mid_types
                    + [type_b] * len(body_ids)
                    + post_types,
                    truncated=truncated,
                )
            )
        return out
