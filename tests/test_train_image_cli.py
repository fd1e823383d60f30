"""Bad input to train_image.py: one clear message, exit code 2, and nothing written."""

import pytest

from tests.conftest import run_main, write_image
from training.train_image import main


def run_script(argv: list[str], capsys) -> tuple[int, str]:
    return run_main(main, "train_image.py", argv, capsys)


def make_tree(root, layout: dict[str, str | None]):
    for relative, mode in layout.items():
        path = root / relative
        if mode is None:
            path.mkdir(parents=True, exist_ok=True)
        elif mode == "broken":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"GIF89a truncated")
        else:
            write_image(path, mode)


GOOD = {"train/ant/1.png": "RGB", "train/ant/2.png": "L", "train/bee/1.png": "RGB", "train/bee/2.png": "RGBA"}


@pytest.mark.parametrize(
    ("layout", "extra", "message"),
    [
        ({**GOOD, "train/wasp": None}, [], "class folder(s) without a readable image in --train_dir"),
        ({"train/ant/1.png": "RGB", "train/ant/2.png": "RGB"}, [], "single class ('ant')"),
        ({**GOOD, "val/ant/1.png": "RGB"}, ["--validation_dir", "VAL"], "do not match --train_dir's: missing bee"),
        ({**GOOD, "train/bee/3.gif": "broken"}, ["--strict_images"], "1 file(s) cannot be used as images"),
        (GOOD, ["--models", "pretrained,resnet-9000"], "unknown model name(s): resnet-9000. Choose from:"),
        (GOOD, ["--image_size", "8"], "--image_size must be between 16 and 1024"),
        (GOOD, ["--augmentation", "mixup"], "--augmentation must be auto, none, crop or flip_crop"),
    ],
)
def test_user_mistakes_end_with_one_message_and_no_output(tmp_path, capsys, layout, extra, message):
    make_tree(tmp_path, layout)
    output = tmp_path / "out"
    extra = [str(tmp_path / "val") if arg == "VAL" else arg for arg in extra]
    code, err = run_script(["--train_dir", str(tmp_path / "train"), "--output_dir", str(output), *extra], capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not output.exists()


def test_missing_folder_and_unreachable_hub_dataset(tmp_path, capsys):
    code, err = run_script(["--train_dir", str(tmp_path / "nope"), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "is not a folder" in err
    code, err = run_script(["--dataset_name", "someone/no-such-images", "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "could not load dataset 'someone/no-such-images'" in err and "--train_dir" in err
    assert not (tmp_path / "o").exists()
