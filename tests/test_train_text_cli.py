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
