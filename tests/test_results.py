import pytest

from training.core.errors import UserError
from training.core.results import (
    check_output_dir,
    choose_primary_metric,
    clear_previous_run,
    comparison_rows,
    overfitting_note,
    wants_resume,
)


def test_primary_metric_rule():
    assert choose_primary_metric([100, 95, 90])[0] == "accuracy"
    metric, reason = choose_primary_metric([400, 100])
    assert metric == "f1_macro" and "4.00" in reason
    assert choose_primary_metric([400, 100], "f1_positive")[0] == "f1_positive"
    with pytest.raises(UserError, match="binary"):
        choose_primary_metric([1, 1, 1], "f1_positive")
    with pytest.raises(UserError, match="unknown --primary_metric"):
        choose_primary_metric([1, 1], "speed")


def _model(name: str, f1: float, train_f1: float, seconds: float) -> dict:
    split = {"f1_macro": f1, "accuracy": f1, "roc_auc": None}
    return {
        "name": name, "kind": "scratch", "num_parameters": 10, "train_runtime_s": seconds,
        "inference_ms_per_sample": 1.0, "train": {**split, "f1_macro": train_f1}, "validation": split, "test": split,
    }  # fmt: skip


def test_overfitting_verdicts():
    assert overfitting_note(_model("a", 0.80, 0.99, 1), "f1_macro")["verdict"] == "strong overfitting"
    assert overfitting_note(_model("a", 0.90, 0.95, 1), "f1_macro")["verdict"] == "mild overfitting"
    note = overfitting_note(_model("a", 0.90, 0.91, 1), "f1_macro")
    assert note["verdict"] == "no sign of overfitting" and note["train_validation_gap"] == pytest.approx(0.01)


def test_comparison_puts_primary_metric_first_and_marks_best_per_column():
    header, rows = comparison_rows([_model("a", 0.8, 0.9, 5.0), _model("b", 0.9, 0.9, 50.0)], "f1_macro")
    assert header[:3] == ["model", "kind", "F1 (macro) *"]
    assert "ROC-AUC" not in header  # no model has it
    f1 = header.index("F1 (macro) *")
    seconds = header.index("training time (s)")
    assert rows[1][f1] == "**0.9000**" and rows[0][f1] == "0.8000"
    assert rows[0][seconds] == "**5.0**"  # lower is better for time


def test_output_dir_policy(tmp_path):
    check_output_dir(tmp_path / "new", overwrite=False, resume=False)
    (tmp_path / "run" / "scratch-simple").mkdir(parents=True)
    (tmp_path / "run" / "results.json").write_text("{}")
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="--overwrite_output_dir"):
        check_output_dir(tmp_path / "run", overwrite=False, resume=False)
    check_output_dir(tmp_path / "run", overwrite=True, resume=False)
    clear_previous_run(tmp_path / "run", ["scratch-simple"])
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["notes.txt"]  # the user's file stays
    assert wants_resume("true") and wants_resume("/ckpt") and not wants_resume(None) and not wants_resume("false")


def test_provenance_names_the_launcher_and_keeps_no_secret(monkeypatch):
    from transformers import TrainingArguments

    from training.core.arguments import RunArguments
    from training.core.provenance import ROOT, provenance

    script = str(ROOT / "training" / "train_text.py")
    for variable in ("WORLD_SIZE", "LOCAL_WORLD_SIZE", "ACCELERATE_MIXED_PRECISION", "ACCELERATE_DYNAMO_BACKEND"):
        monkeypatch.delenv(variable, raising=False)
    training = TrainingArguments(output_dir="outputs/x", hub_token="hf_secret", report_to="none")
    parts = {"run": RunArguments(), "training": training}
    argv = [script, "--output_dir", "outputs/x", "--hub_token", "hf_secret", "--text_column", "a b", "--hub-token=hf_x"]
    record = provenance(parts, {"output_dir", "hub_token"}, argv)
    assert record["command"] == "python training/train_text.py --output_dir outputs/x --text_column 'a b'"
    assert "hf_x" not in str(record)
    assert record["explicit_arguments"] == ["output_dir"] and "hf_secret" not in str(record)
    assert record["arguments"]["training"]["output_dir"] == "outputs/x" and "packages" in record
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert provenance(parts, set(), [script])["command"] == "torchrun --nproc_per_node 2 training/train_text.py"
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")
    assert provenance(parts, set(), [script])["command"].startswith("accelerate launch --multi_gpu --num_processes 4 ")
