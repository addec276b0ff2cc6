"""Reading and writing listing tables in every supported format."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from lurescan.model.tables import (
    TableError,
    column_mapping,
    detect_format,
    frame_to_listings,
    iter_chunks,
    read_table,
    require_text_columns,
    table_writer,
)

ROWS = [
    {"id": "a1", "title": "Kế toán tổng hợp", "text": "Công ty TNHH Minh Phát tuyển kế toán, lương 12-15 triệu.", "label": "0"},
    {"id": "a2", "title": "", "text": "Việc nhẹ lương cao 30tr/tháng, bao ăn ở, bay sang Campuchia, liên hệ Zalo 0901234567", "label": "1"},
    {"id": "a3", "title": "Data analyst", "text": "Line one, with \"quotes\", commas;\nsemicolons | pipes", "label": "0"},
]


@pytest.mark.parametrize(
    "name,fmt",
    [("x.csv", "csv"), ("x.CSV.gz", "csv"), ("x.tsv", "csv"), ("x.jsonl", "jsonl"), ("x.jsonl.gz", "jsonl"), ("x.parquet", "parquet")],
)
def test_detect_format(name, fmt):
    assert detect_format(name) == fmt


def test_unknown_format_names_the_file():
    with pytest.raises(TableError, match=r"listings\.xlsx: unknown format"):
        detect_format("listings.xlsx")


def _write(tmp_path, name):
    path = tmp_path / name
    frame = pd.DataFrame(ROWS)
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    elif ".jsonl" in name:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS)
        path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    else:
        sep = ";" if "semi" in name else ","
        frame.to_csv(path, index=False, sep=sep, compression="gzip" if name.endswith(".gz") else None)
    return path


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "semi.csv", "t.jsonl", "t.jsonl.gz", "t.parquet"])
def test_every_format_reads_back_exactly(tmp_path, name):
    frame = read_table(_write(tmp_path, name))
    assert frame["id"].tolist() == ["a1", "a2", "a3"]
    assert frame["text"].tolist() == [r["text"] for r in ROWS]
    assert frame["title"].tolist()[1] == ""


def test_chunks_bound_memory(tmp_path):
    path = _write(tmp_path, "t.csv")
    sizes = [len(c) for c in iter_chunks(path, chunk_size=2)]
    assert sizes == [2, 1]


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(TableError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(TableError, match="is a directory"):
        read_table(tmp_path / "dir.csv")


def test_corrupt_files_fail_with_the_file_name(tmp_path):
    bad_gz = tmp_path / "bad.csv.gz"
    bad_gz.write_bytes(b"not gzip at all")
    with pytest.raises(TableError, match="bad.csv.gz"):
        read_table(bad_gz)
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"text": "ok"}\n{"text": broken\n')
    with pytest.raises(TableError, match=r"bad.jsonl: line 2 is not valid JSON"):
        read_table(bad_json)
    bad_parquet = tmp_path / "bad.parquet"
    bad_parquet.write_bytes(b"PAR1garbage")
    with pytest.raises(TableError, match="bad.parquet"):
        read_table(bad_parquet)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("id,text\n1,Caf\xe9 job\n".encode("latin-1"))
    with pytest.raises(TableError, match="not UTF-8"):
        read_table(latin1)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(TableError, match="empty file"):
        read_table(empty)


def test_emscad_columns_map_onto_listing_fields():
    columns = ["job_id", "title", "location", "department", "salary_range", "company_profile", "description",
               "requirements", "benefits", "telecommuting", "has_company_logo", "has_questions", "employment_type",
               "required_experience", "required_education", "industry", "function", "fraudulent"]
    mapping = column_mapping(columns)
    assert mapping["job_id"] == "id"
    assert mapping["salary_range"] == "salary"
    assert mapping["fraudulent"] == "label"
    assert mapping["company_profile"] == "company_profile"
    assert "department" not in mapping
    frame = pd.DataFrame([dict.fromkeys(columns, "") | {"job_id": "7", "title": "Clerk", "telecommuting": "1", "has_company_logo": "0", "salary_range": "20000-30000"}])
    listing = frame_to_listings(frame, mapping)[0]
    assert listing.id == "7" and listing.salary == "20000-30000"
    assert listing.telecommuting is True and listing.has_company_logo is False


def test_no_text_column_is_a_clear_error():
    with pytest.raises(TableError, match=r"data.csv: no usable text column \(found id, price"):
        require_text_columns("data.csv", ["id", "price"])


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.parquet", "out.csv.gz"])
def test_writer_is_atomic(tmp_path, name):
    target = tmp_path / name
    with pytest.raises(RuntimeError), table_writer(target) as writer:
        writer.write(pd.DataFrame(ROWS[:2]))
        raise RuntimeError("boom")
    assert not target.exists()
    assert not list(tmp_path.glob("*.part")), "temporary file left behind"
    with table_writer(target) as writer:
        writer.write(pd.DataFrame(ROWS[:2]))
        writer.write(pd.DataFrame(ROWS[2:]))
    assert read_table(target)["id"].tolist() == ["a1", "a2", "a3"]
