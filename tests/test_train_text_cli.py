"""Bad input to train_text.py: one clear message, exit code 2, and nothing written."""

import pytest

from tests.conftest import run_main, write_csv
from training.train_text import main


def run_script(argv: list[str], capsys) -> tuple[int, str]:
    return run_main(main, "train_text.py", argv, capsys)


@pytest.fixture
def data_file(tmp_path, sentiment_rows):
    return write_csv(tmp_path / "reviews.csv", sentiment_rows)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--text_column", "body"], "'body' not found in the train data. Available columns: id, review, sentiment"),
        (["--models", "scratch-simple,gpt5"], "unknown model name(s): gpt5. Choose from: scratch-simple"),
        (["--label_column", "id", "--class_names", "x"], "--class_names gives 1 names"),
        (["--primary_metric", "speed"], "unknown --primary_metric 'speed'"),
    ],
)
def test_user_mistakes_end_with_one_message_and_no_output(tmp_path, data_file, capsys, extra, message):
    output = tmp_path / "out"
    argv = ["--train_file", str(data_file), "--text_column", "review", "--label_column", "sentiment"]
    code, err = run_script([*argv, "--output_dir", str(output), *extra], capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not output.exists()


def test_missing_file_and_single_class(tmp_path, capsys, sentiment_rows):
    code, err = run_script(["--train_file", str(tmp_path / "nope.csv"), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "does not exist" in err
    one = write_csv(tmp_path / "one.csv", [r for r in sentiment_rows if r["sentiment"] == "negative"])
    argv = ["--train_file", str(one), "--text_column", "review", "--label_column", "sentiment"]
    code, err = run_script([*argv, "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "single class" in err
    assert not (tmp_path / "o").exists()


def test_hub_dataset_unreachable_offline_is_a_clear_error(tmp_path, capsys):
    code, err = run_script(["--dataset_name", "someone/no-such-dataset", "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "could not load dataset 'someone/no-such-dataset'" in err and "--train_file" in err
    assert not (tmp_path / "o").exists()


def test_existing_output_dir_is_refused_and_left_untouched(tmp_path, data_file, capsys):
    output = tmp_path / "out"
    output.mkdir()
    (output / "results.json").write_text('{"keep": true}')
    argv = ["--train_file", str(data_file), "--text_column", "review", "--label_column", "sentiment"]
    code, err = run_script([*argv, "--output_dir", str(output)], capsys)
    assert code == 2 and "--overwrite_output_dir" in err
    assert (output / "results.json").read_text() == '{"keep": true}'


def _rows(n: int, separator: str = ",", header: str = "text,label") -> str:
    return header + "\n" + "".join(f"text number {i}{separator}{'ab'[i % 2]}\n" for i in range(n))


# Files as users have them, each broken in one way: (file name, content, what the message must say).
BROKEN_FILES = {
    "too-few-rows": ("four.csv", "text,label\na,x\nb,x\nc,y\nd,y\n",
                     "too little data to split: 4 rows in 2 classes (x: 2, y: 2)"),
    "ragged-row": ("ragged.csv", "text,label\nhello,a\nworld,b,c,d\nok,a\n",
                   "the header has 2 fields (text, label) but line 3 has 4"),
    "broken-json-lines": ("broken.jsonl", '{"text": "a", "label": 1}\n{"text": "b",\n',
                          "not valid JSON Lines: line 2"),
    "broken-json": ("broken.json", '[{"text": "a", "label": 1},\n {"text": "b" "label": 2}]',
                    "not valid JSON: Expecting ',' delimiter at line 2"),
    "empty-file": ("empty.csv", "", "empty.csv is empty"),
    "header-only": ("header.csv", "text,label\n", "has a header (text, label) but no rows"),
    "empty-json-list": ("empty.json", "[]", "holds an empty list: it has no rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", BROKEN_FILES)
def test_broken_files_end_with_one_message_naming_the_problem(tmp_path, capsys, case):
    name, content, message = BROKEN_FILES[case]
    (tmp_path / name).write_text(content)
    output = tmp_path / "out"
    code, err = run_script(["--train_file", str(tmp_path / name), "--output_dir", str(output)], capsys)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert err.count("error:") == 1
    assert not output.exists()


def test_too_few_rows_names_what_is_needed(tmp_path, capsys):
    (tmp_path / "four.csv").write_text(BROKEN_FILES["too-few-rows"][1])
    code, err = run_script(["--train_file", str(tmp_path / "four.csv"), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "validation 0" in err and "at least 20 rows" in err
    assert "--validation_split_percentage" in err and "--validation_file and --test_file" in err


def test_a_misspelt_column_is_matched_or_suggested(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text(_rows(30, header="Txet ,Label"))
    argv = ["--train_file", str(path), "--text_column", "text", "--output_dir", str(tmp_path / "o")]
    code, err = run_script(argv, capsys)
    assert code == 2
    assert "'text' not found" in err and "Did you mean 'Txet '?" in err
    assert not (tmp_path / "o").exists()
