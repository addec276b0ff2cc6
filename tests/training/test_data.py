"""Loading labelled training data from files and Hugging Face datasets."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lurescan.training.data import (
    DataError,
    check_trainable,
    frame_to_listings,
    load_file,
    load_hf_dataset,
    load_training_data,
)

CANONICAL = [
    {
        "id": "1",
        "source": "board",
        "lang": "en",
        "title": "Nurse",
        "company": "St Mary Hospital",
        "location": "Cebu",
        "salary": "",
        "text": "Registered nurse for the surgical ward; PRC licence required.",
        "label": 0,
    },
    {
        "id": "2",
        "source": "board",
        "lang": "en",
        "title": "CSR",
        "company": "",
        "location": "Cambodia",
        "salary": "$2,000",
        "text": "Typing job abroad, free ticket, Telegram @abc_hr",
        "label": 1,
    },
]


def test_canonical_csv(tmp_path):
    path = tmp_path / "canon_text_label.csv"
    pd.DataFrame(CANONICAL).to_csv(path, index=False)
    frame, record = load_file(path)
    assert frame["label"].tolist() == [0, 1]
    assert frame["source"].tolist() == ["board", "board"]
    assert record.rows == 2 and record.labels == {"0": 1, "1": 1} and len(record.sha256) == 64
    listings = frame_to_listings(frame)
    assert listings[1].contact is None and listings[1].location == "Cambodia" and listings[0].language == "en"


def test_structured_fields_may_replace_text(tmp_path):
    path = tmp_path / "structured.jsonl"
    rows = [
        {
            "title": "Barista",
            "description": "Make coffee at our Makati branch.",
            "requirements": "1 year experience",
            "contact": "hr@beanery.ph",
            "label": 0,
        },
        {
            "title": "Chat operator",
            "description": "Work in Poipet, salary 1500 USD",
            "benefits": "free housing",
            "label": 1,
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    frame, _ = load_file(path)
    assert frame["description"].tolist()[0].startswith("Make coffee")
    assert frame["text"].isna().all()
    assert frame["id"].tolist() == ["structured:0", "structured:1"]
    assert set(frame["lang"]) <= {"en", "und", "tl"}  # detected, not given


def test_emscad_native_layout(tmp_path, shared_data):
    source = shared_data / "emscad_fraud_train.csv.gz"
    head = pd.read_csv(source, nrows=5, dtype=str, keep_default_na=False)
    path = tmp_path / "emscad_sample.csv"
    head.to_csv(path, index=False)
    frame, _ = load_file(path)
    assert frame["label"].tolist() == [1] * 5
    assert frame["id"].tolist() == head["job_id"].tolist()
    assert frame["salary"].tolist() == head["salary_range"].tolist()
    assert frame["company_profile"].notna().any()


@pytest.mark.parametrize(
    "labels,message",
    [
        (["0", "2"], r"labels must be 0 \(legitimate\) or 1 \(scam\); found '2' in data rows 2"),
        (["yes", "1"], "found 'yes'"),
    ],
)
def test_bad_labels(tmp_path, labels, message):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"text": ["a job ad here", "another job ad"], "label": labels}).to_csv(path, index=False)
    with pytest.raises(DataError, match=message):
        load_file(path)


def test_missing_label_and_text_columns(tmp_path):
    path = tmp_path / "nolabel.csv"
    pd.DataFrame({"text": ["an ad"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"nolabel.csv: no label column"):
        load_file(path)
    path = tmp_path / "notext.csv"
    pd.DataFrame({"price": [1], "label": [0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"notext.csv: no usable text column"):
        load_file(path)


def test_all_rows_empty_text(tmp_path):
    path = tmp_path / "blank.csv"
    pd.DataFrame({"text": ["", "   "], "label": [0, 1]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="every row has empty text"):
        load_file(path)


def test_one_class_is_not_trainable(tmp_path):
    path = tmp_path / "legit_only.csv"
    pd.DataFrame({"text": ["ad one text", "ad two text"], "label": [0, 0]}).to_csv(path, index=False)
    data, _ = load_training_data([path])
    with pytest.raises(DataError, match=r"all 2 rows are legitimate ads \(0\)"):
        check_trainable(data)


def test_duplicate_ids_across_files_are_made_unique(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame(CANONICAL).to_csv(a, index=False)
    pd.DataFrame(CANONICAL).assign(source="other").to_csv(b, index=False)
    data, records = load_training_data([a, b])
    assert data["id"].is_unique and len(data) == 4 and len(records) == 2


def test_no_data_given():
    with pytest.raises(DataError, match="no training data given"):
        load_training_data([])


def test_hf_dataset_from_local_files(tmp_path):
    folder = tmp_path / "hf_local"
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in CANONICAL))
    frame, record = load_hf_dataset(str(folder), split="train")
    assert frame["label"].tolist() == [0, 1]
    assert record.path.startswith("hf:")


def test_hf_dataset_saved_to_disk(tmp_path):
    import datasets

    path = tmp_path / "saved"
    datasets.Dataset.from_list(CANONICAL).save_to_disk(str(path))
    frame, _ = load_hf_dataset(str(path), split="train")
    assert frame["text"].tolist()[1].startswith("Typing job")


def test_hf_dataset_unloadable_names_the_dataset(tmp_path):
    with pytest.raises(DataError, match=r"hf:.*missing.*cannot load dataset"):
        load_hf_dataset(str(tmp_path / "missing"), split="train")
