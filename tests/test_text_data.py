import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import sentiment_data, write_csv
from training.core.data import finalize
from training.core.errors import UserError
from training.text.data import BBC_NEWS, TextDataArguments, load_text_data


def load(**kwargs):
    return load_text_data(TextDataArguments(**kwargs), seed=42)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".jsonl", ".parquet"])
def test_every_file_format_loads_and_is_split_stratified(tmp_path, sentiment_rows, suffix):
    path = tmp_path / f"data{suffix}"
    frame = pd.DataFrame(sentiment_rows)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".json":
        path.write_text(json.dumps(sentiment_rows))
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    data = load(train_file=str(path), text_column="review", label_column="sentiment")
    assert data.label_names == ["negative", "positive"]
    sizes = {k: len(v) for k, v in data.splits.items()}
    assert sizes == {"train": 48, "validation": 6, "test": 6}
    for split in data.splits.values():
        assert split.column_names == ["text", "label"]
        assert np.bincount(split["label"]).tolist()[0] == len(split) // 2  # stratified: exactly half each


def test_split_is_reproducible_and_disjoint(tmp_path, sentiment_rows):
    path = write_csv(tmp_path / "d.csv", sentiment_rows)
    first = load(train_file=str(path), text_column="review", label_column="sentiment")
    second = load(train_file=str(path), text_column="review", label_column="sentiment")
    assert first.splits["test"]["text"] == second.splits["test"]["text"]
    train, test = set(first.splits["train"]["text"]), set(first.splits["test"]["text"])
    assert not train & test


def test_duplicates_are_removed_before_splitting(tmp_path, sentiment_rows):
    rows = sentiment_rows + [{**sentiment_rows[0], "review": "  A GREAT film   number 0 "}] * 3
    data = load(train_file=str(write_csv(tmp_path / "d.csv", rows)), text_column="review", label_column="sentiment")
    assert data.notes["duplicates_removed"] == {"train": 3}
    assert sum(len(s) for s in data.splits.values()) == len(sentiment_rows)


def test_given_validation_without_test_doubles_as_test(tmp_path, sentiment_rows):
    train = write_csv(tmp_path / "train.csv", sentiment_rows[:50])
    validation = write_csv(tmp_path / "validation.csv", sentiment_rows[50:])
    data = load(train_file=str(train), validation_file=str(validation), text_column="review", label_column="sentiment")
    assert data.notes["test_is_validation"] == "true"
    assert data.splits["test"]["text"] == data.splits["validation"]["text"]
    assert len(data.splits["train"]) == 50


def test_unknown_column_lists_the_available_ones(tmp_path, sentiment_rows):
    path = write_csv(tmp_path / "d.csv", sentiment_rows)
    with pytest.raises(UserError, match="'text' not found.*Available columns: id, review, sentiment"):
        load(train_file=str(path), label_column="sentiment")


def test_single_class_is_refused(tmp_path, sentiment_rows):
    rows = [r for r in sentiment_rows if r["sentiment"] == "positive"]
    with pytest.raises(UserError, match="single class"):
        load(train_file=str(write_csv(tmp_path / "d.csv", rows)), text_column="review", label_column="sentiment")


def test_empty_texts_are_refused_unless_dropped(tmp_path, sentiment_rows):
    rows = [dict(r) for r in sentiment_rows]
    rows[3]["review"] = "   "
    rows[7]["review"] = ""
    path = write_csv(tmp_path / "d.csv", rows)
    with pytest.raises(UserError, match=r"2 row\(s\).*rows 4, 8.*--drop_empty_rows"):
        load(train_file=str(path), text_column="review", label_column="sentiment")
    data = load(train_file=str(path), text_column="review", label_column="sentiment", drop_empty_rows=True)
    assert data.notes["empty_rows_dropped"] == {"train": 2}


def test_non_utf8_and_missing_files_are_clear_errors(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncaf\xe9 ok,a\nfine,b\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8.*line 2.*iconv"):
        load(train_file=str(path))
    with pytest.raises(UserError, match="does not exist"):
        load(train_file=str(tmp_path / "nope.csv"))
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(UserError, match="unsupported format"):
        load(train_file=str(tmp_path / "data.xlsx"))


def test_labels_unseen_in_training_are_refused(tmp_path, sentiment_rows):
    train = write_csv(tmp_path / "train.csv", sentiment_rows)
    test = write_csv(tmp_path / "test.csv", [{"id": 1, "review": "meh", "sentiment": "neutral"}])
    with pytest.raises(UserError, match="never seen in training: neutral"):
        load(train_file=str(train), test_file=str(test), text_column="review", label_column="sentiment")


def test_integer_labels_get_readable_class_names(tmp_path, sentiment_rows):
    rows = [{"text": r["review"], "target": int(r["sentiment"] == "positive")} for r in sentiment_rows]
    path = write_csv(tmp_path / "d.csv", rows)
    assert load(train_file=str(path), label_column="target").label_names == ["0", "1"]
    assert load(train_file=str(path), label_column="target", class_names="bad,good").label_names == ["bad", "good"]
    with pytest.raises(UserError, match="one name per class"):
        load(train_file=str(path), label_column="target", class_names="a,b,c")


def test_default_is_bbc_news_deduplicated_and_stratified():
    data = load()
    assert data.source == BBC_NEWS
    assert data.label_names == ["business", "entertainment", "politics", "sports", "tech"]
    assert data.notes["duplicates_removed"]["train"] > 50  # the corpus repeats articles
    total = sum(len(s) for s in data.splits.values())
    assert len(data.splits["test"]) == pytest.approx(0.1 * total, abs=2)
    shares = [np.bincount(data.splits[s]["label"]) / len(data.splits[s]) for s in ("train", "test")]
    assert np.abs(shares[0] - shares[1]).max() < 0.02


def test_max_samples_subsample_stratified(tmp_path, sentiment_rows):
    path = write_csv(tmp_path / "d.csv", sentiment_rows)
    data = finalize(load(train_file=str(path), text_column="review", label_column="sentiment"), 10, 4, 42)
    assert len(data.splits["train"]) == 10 and len(data.splits["validation"]) == 4
    assert sorted(data.splits["train"]["label"]) == [0] * 5 + [1] * 5


def _write(path, text):
    path.write_text(text)
    return str(path)


def _rows(n: int, separator: str = ",", header: str = "text,label") -> str:
    return header + "\n" + "".join(f"text number {i}{separator}{'ab'[i % 2]}\n" for i in range(n))


@pytest.mark.parametrize(("suffix", "separator"), [(".csv", ";"), (".csv", "\t"), (".tsv", ","), (".csv", "|")])
def test_the_delimiter_is_detected_when_the_extensions_does_not_fit(tmp_path, suffix, separator):
    header = separator.join(["text", "label"])
    data = load(train_file=_write(tmp_path / f"d{suffix}", _rows(40, separator, header)))
    assert data.label_names == ["a", "b"] and sum(len(s) for s in data.splits.values()) == 40
    assert "detected" in data.notes["delimiter"]


def test_an_explicit_delimiter_wins_and_names_are_checked(tmp_path):
    path = _write(tmp_path / "d.csv", _rows(40, ";", "text;label"))
    assert load(train_file=path, delimiter="semicolon").label_names == ["a", "b"]
    with pytest.raises(UserError, match="Available columns: text;label"):
        load(train_file=path, delimiter=",")
    with pytest.raises(UserError, match="--delimiter must be one character"):
        TextDataArguments(delimiter="::")


def test_column_names_match_without_surrounding_spaces_and_case(tmp_path):
    data = load(train_file=_write(tmp_path / "d.csv", _rows(40, header="Text ,Label")), text_column="Text",
                label_column="label")  # fmt: skip
    assert data.splits["train"].column_names == ["text", "label"] and data.label_names == ["a", "b"]


def test_ambiguous_names_are_not_guessed(tmp_path):
    path = _write(tmp_path / "d.csv", "text,TEXT,label\n" + "".join(f"t{i},u{i},{'ab'[i % 2]}\n" for i in range(40)))
    with pytest.raises(UserError, match="'Text' not found"):
        load(train_file=path, text_column="Text")


def test_integral_float_labels_read_as_integers(tmp_path):
    text = "text,label\n" + "".join(f"text {i},{float(i % 2)}\n" for i in range(40))
    assert load(train_file=_write(tmp_path / "d.csv", text)).label_names == ["0", "1"]
    halves = "text,label\n" + "".join(f"text {i},{(i % 2) / 2}\n" for i in range(40))
    assert load(train_file=_write(tmp_path / "h.csv", halves)).label_names == ["0.0", "0.5"]


def test_several_text_columns_are_joined_in_the_documented_format(tmp_path):
    rows = [{"keyword": ["flood", "", "fire"][i % 3], "text": f"words {i}", "target": i % 2} for i in range(60)]
    data = load(train_file=str(write_csv(tmp_path / "d.csv", rows)), text_column="keyword, text", label_column="target")
    texts = sorted(t for s in data.splits.values() for t in s["text"])
    assert "keyword: flood | text: words 0" in texts and "text: words 1" in texts  # an empty keyword is left out
    assert data.input_fields == ["keyword", "text"]
    assert data.notes["text_columns"] == (
        "keyword, text joined as 'keyword: <keyword> | text: <text>', empty values left out"
    )
    assert load(train_file=str(write_csv(tmp_path / "d.csv", rows)), label_column="target").input_fields == []


def test_pad_to_max_length_pads_every_text_as_the_example_scripts_do(tmp_path):
    from training.train_text import parse, prepare

    path = write_csv(tmp_path / "d.csv", sentiment_data())
    base = ["--train_file", str(path), "--text_column", "review", "--label_column", "sentiment",
            "--max_seq_length", "24", "--vocab_size", "200", "--output_dir", str(tmp_path / "o")]  # fmt: skip
    for extra, width in (([], None), (["--pad_to_max_length"], 24)):
        args = parse([*base, *extra])
        data = load_text_data(args.data, seed=42)
        prepared = prepare("scratch-simple", args, data, data.splits, 42)
        batch = prepared.collator([prepared.encoded["train"][i] for i in range(4)])
        longest = max(len(prepared.encoded["train"][i]["input_ids"]) for i in range(4))
        assert batch["input_ids"].shape[1] == (width or longest) and longest < 24
