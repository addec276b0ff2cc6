"""Fixtures for the transformer tests: a tiny random BERT and a small labelled table, built locally (no download)."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pandas as pd
import pytest

SCAM_WORDS = ["telegram", "whatsapp", "salary", "high", "cambodia", "visa", "free", "flight", "housing", "urgent", "bonus", "typing", "overseas", "daily", "cash", "agent"]
LEGIT_WORDS = ["engineer", "python", "team", "office", "benefits", "insurance", "degree", "analyst", "manager", "senior", "resume", "interview", "hybrid", "pension"]
COMMON = ["the", "a", "and", "for", "with", "in", "our", "we", "you", "work", "job", "company", "position", "role", "apply", "now"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_bert(directory: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide BERT with a WordPiece tokenizer over a few hundred tokens."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    words = sorted(
        set(
            SCAM_WORDS
            + LEGIT_WORDS
            + COMMON
            + ["title", "company", "location", "salary", "contact", "url", "phone", "email", "text"]
        )
    )
    tokens = list(dict.fromkeys(SPECIALS + chars + ["##" + c for c in chars] + words))  # "a" is a char and a word
    vocab = {token: i for i, token in enumerate(tokens)}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer.decoder = decoders.WordPiece()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    fast.save_pretrained(directory)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        type_vocab_size=2,
        num_labels=2,
    )
    torch.manual_seed(seed)
    BertForSequenceClassification(config).save_pretrained(directory)
    return directory


def synthetic_table(n_scam: int = 70, n_legit: int = 110, seed: int = 0) -> pd.DataFrame:
    """Labelled ads in the canonical layout, one company each, varied enough to survive deduplication."""
    rng = random.Random(seed)
    rows = []
    for i in range(n_scam + n_legit):
        scam = i < n_scam
        pool = (SCAM_WORDS if scam else LEGIT_WORDS) + COMMON
        body = " ".join(rng.choice(pool) for _ in range(rng.randint(25, 60)))
        rows.append(
            {
                "id": f"ad{i}",
                "source": "synthetic",
                "lang": "en",
                "title": " ".join(rng.choice(pool) for _ in range(3)),
                "company": f"company {i} {rng.choice(string.ascii_lowercase)}",
                "location": rng.choice(["phnom penh", "hanoi", "seoul", "london"]),
                "salary": f"{rng.randint(1, 9) * 500} usd" if rng.random() < 0.7 else "",
                "text": body + (" contact telegram t.me/agent" + str(i) if scam and rng.random() < 0.5 else ""),
                "label": int(scam),
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def synthetic_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "synthetic_text_label.csv"
    synthetic_table().to_csv(path, index=False)
    return path


SAMPLE_LISTINGS = [
    {
        "title": "typing job overseas",
        "salary": "3000 usd",
        "text": "urgent telegram cambodia free flight housing " * 20,
        "contact": "t.me/agent7",
    },
    {"title": "senior python engineer", "company": "company 9", "text": "our team office insurance pension hybrid"},
    {"text": "short ad"},
]


@pytest.fixture
def listings() -> list[dict]:
    """A lure with a long body, a plain legitimate ad, and a two-word ad."""
    return [dict(item) for item in SAMPLE_LISTINGS]


def tiny_args(out: Path, tiny_bert: Path, csv: Path, **training):
    from lurescan.training.arguments import DataArgs, FinetuneArgs, FinetuneTrainingArgs, ModelArgs

    return FinetuneArgs(
        out=str(out),
        data=DataArgs(data=[str(csv)]),
        model=ModelArgs(base_model=str(tiny_bert), max_length=48),
        training=FinetuneTrainingArgs(batch_size=8, eval_batch_size=32, eval_steps=2, logging_steps=1, **training),
        progress=False,
    )


@pytest.fixture(scope="session")
def finetuned(tiny_bert, synthetic_csv, tmp_path_factory):
    """Two steps, then resume from the last checkpoint to four: the bundle of the resumed run."""
    from lurescan.training.finetune import main as finetune_main

    out = tmp_path_factory.mktemp("finetune") / "transformer"
    first = finetune_main(tiny_args(out, tiny_bert, synthetic_csv, max_steps=2))
    second = finetune_main(tiny_args(out, tiny_bert, synthetic_csv, max_steps=4, resume_from_checkpoint="last"))
    return out, first, second


@pytest.fixture(scope="session")
def make_synthetic_table():
    """`synthetic_table` for test modules (tests/ is not a package, so they cannot import it)."""
    return synthetic_table


def boards_table(seed: int = 0, n_scam: int = 90, n_legit: int = 150) -> pd.DataFrame:
    """`synthetic_table` spread over two legitimate boards (TopCV, Glassdoor), an EMSCAD-like scam board
    (no company name; every 4 ads share a company_profile) and the written corpus, in the canonical columns."""
    from lurescan.training.data import FRAME_COLUMNS

    frame = synthetic_table(n_scam=n_scam, n_legit=n_legit, seed=seed)
    sources = []
    for i, label in enumerate(frame["label"]):
        if label == 1:
            sources.append("emscad_fraud_train" if i % 3 else "lurescan_corpus")
        else:
            sources.append(("topcv.vn", "glassdoor_ds_salary_proj", "lurescan_corpus")[i % 3])
    frame["source"] = sources
    emscad = frame["source"] == "emscad_fraud_train"
    frame["company_profile"] = [f"profile of employer {i // 4}" if e else None for i, e in enumerate(emscad)]
    frame.loc[emscad, "company"] = None
    frame["group"] = [f"g{i // 2}" for i in range(len(frame))]
    return frame.reindex(columns=list(dict.fromkeys([*FRAME_COLUMNS, *frame.columns])))


@pytest.fixture(scope="session")
def make_boards_table():
    return boards_table
