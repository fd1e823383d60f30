import json

import pytest
from transformers import TrainingArguments

from training.core.arguments import RunArguments, parse_arguments, selected_models, with_overrides
from training.core.errors import UserError
from training.text.data import TextDataArguments
from training.text.lineup import TEXT_MODELS, TextModelArguments

TYPES = (TextModelArguments, TextDataArguments, RunArguments, TrainingArguments)


def test_command_line_sets_explicit_arguments_that_per_model_defaults_respect():
    (model, data, run, training), explicit = parse_arguments(
        TYPES, "outputs/test", ["--output_dir", "/tmp/x", "--learning_rate", "0.01", "--max_seq_length", "64"]
    )
    assert training.eval_strategy == "epoch" and training.load_best_model_at_end  # project defaults
    defaults = TEXT_MODELS["transformer"].defaults
    assert with_overrides(training, defaults, explicit).learning_rate == 0.01  # user's choice wins
    assert with_overrides(training, defaults, explicit).num_train_epochs == defaults["num_train_epochs"]
    assert with_overrides(data, defaults, explicit).max_seq_length == 64


def test_yaml_and_json_config_files(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("output_dir: /tmp/y\nmodels: scratch-simple\nnum_train_epochs: 2\n")
    (_, _, run, training), explicit = parse_arguments(TYPES, "outputs/test", [str(config)])
    assert run.models == "scratch-simple" and training.num_train_epochs == 2 and "num_train_epochs" in explicit
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"output_dir": "/tmp/z", "learning_rat": 1}))
    with pytest.raises(UserError, match="learning_rat"):
        parse_arguments(TYPES, "outputs/test", [str(bad)])


def test_output_dir_defaults_to_the_scripts_own_folder(tmp_path):
    (_, _, _, training), explicit = parse_arguments(TYPES, "outputs/text", [])
    assert training.output_dir == "outputs/text" and "output_dir" not in explicit
    config = tmp_path / "run.yaml"
    config.write_text("models: scratch-simple\n")
    (_, _, _, training), _ = parse_arguments(TYPES, "outputs/text", [str(config)])
    assert training.output_dir == "outputs/text"


def test_unknown_flags_and_models_are_user_errors():
    with pytest.raises(UserError, match="--lerning_rate"):
        parse_arguments(TYPES, "outputs/test", ["--lerning_rate", "1"])
    with pytest.raises(UserError, match="Choose from: scratch-simple"):
        selected_models("scratch-simple,bert-huge", list(TEXT_MODELS))
    assert selected_models("transformer, scratch-simple", list(TEXT_MODELS)) == ["transformer", "scratch-simple"]
    assert selected_models("all", list(TEXT_MODELS)) == list(TEXT_MODELS)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--complex_encoder", "lstm"], "--complex_encoder must be cnn, dan or bigru"),
        (["--dan_layers", "0"], "--dan_layers must be at least 1"),
        (["--word_dropout", "1"], r"--word_dropout must be in \[0, 1\)"),
    ],
)
def test_the_complex_text_models_settings_are_checked(flags, message):
    with pytest.raises(UserError, match=message):
        parse_arguments(TYPES, "outputs/test", flags)
