"""Hyperparameter search: the documented space and its overrides, the trial-to-arguments mapping, bad
input refused before anything is written, and a real two-trial study resumed from its SQLite storage
with the best configuration retrained in the standard layout."""

import json
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, run_main, run_script, sentiment_csv_args
from training.core.errors import UserError
from training.experiments.sweep import TrialRecord, load_space, retrain_arguments, training_arguments
from training.experiments.sweep import main as sweep_main

SPACE = {
    "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "optim": {"type": "categorical", "choices": ["adamw_torch_fused", "sgd", "rmsprop", "adafactor"]},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
}


def test_space_overrides_are_checked(tmp_path):
    override = tmp_path / "space.yaml"
    override.write_text("dropout: null\nlearning_rate: {type: float, low: 0.001, high: 0.1}\nwarmup_steps: "
                        "{type: int, low: 0, high: 10}\n")  # fmt: skip
    space = load_space(str(override), SPACE)
    assert "dropout" not in space and space["learning_rate"]["high"] == 0.1 and "warmup_steps" in space
    for bad, message in (
        ("colour: {type: categorical, choices: [red]}", "neither in the default space"),
        ("learning_rate: {type: float, low: 0.1}", "must be {type: float|int"),
        ("- a list", "must map parameter names"),
    ):
        override.write_text(bad)
        with pytest.raises(UserError, match=message.replace("|", r"\|").replace("{", r"\{")):
            load_space(str(override), SPACE)
    with pytest.raises(UserError, match="does not exist"):
        load_space(str(tmp_path / "missing.yaml"), SPACE)
    # Early-stopping patience: a callback setting, searchable when the model stops early.
    override.write_text("early_stopping_patience: {type: int, low: 2, high: 10}")
    assert load_space(str(override), SPACE)["early_stopping_patience"]["high"] == 10
    with pytest.raises(UserError, match="trains without early stopping. Turn it on with `-- --early_stopping_pat"):
        load_space(str(override), SPACE, early_stopping=False)


def test_trial_parameters_become_training_arguments():
    sgd = training_arguments({"learning_rate": 0.001, "optim": "sgd", "dropout": 0.2, "early_stopping_patience": 4})
    assert sgd == {"learning_rate": pytest.approx(0.01), "optim": "sgd", "optim_args": "momentum=0.9"}
    # Trainer keeps its arguments between trials: optim_args must be cleared after an SGD trial.
    assert training_arguments({"learning_rate": 0.001, "optim": "rmsprop"})["optim_args"] == ""

    class Trial:
        params = {"learning_rate": 0.001, "optim": "sgd", "dropout": 0.2, "early_stopping_patience": 4}

    flags = retrain_arguments(Trial())
    assert flags[flags.index("--learning_rate") + 1] == "0.01" and flags[flags.index("--dropout") + 1] == "0.2"
    assert flags[flags.index("--early_stopping_patience") + 1] == "4"
    assert flags[flags.index("--optim_args") + 1] == "momentum=0.9"


def test_a_trial_sets_its_early_stopping_patience():
    """Trainer's search sets TrainingArguments only; TrialRecord hands the trial's patience to the
    early-stopping callback, from an Optuna trial or from the dict Ray passes."""
    from types import SimpleNamespace

    import optuna
    from transformers import EarlyStoppingCallback

    space = {"early_stopping_patience": {"type": "int", "low": 1, "high": 9}}
    stopping = EarlyStoppingCallback(3)
    for trial, expected in ((optuna.trial.FixedTrial({"early_stopping_patience": 7}), 7),
                            ({"early_stopping_patience": 2, "learning_rate": 0.1}, 2)):  # fmt: skip
        record = TrialRecord(space)
        record.trainer = SimpleNamespace(_trial=trial, callback_handler=SimpleNamespace(callbacks=[stopping, record]))
        record.on_train_begin(None, None, None)
        assert stopping.early_stopping_patience == expected
    TrialRecord({}).on_train_begin(None, None, None)  # no trainer, nothing searched: nothing to do


def test_bad_arguments_write_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "sweep"
    # --ray_address auto finds clusters through RAY_ADDRESS and Ray's temp dir: make sure it finds none.
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path / "ray"))
    ray_cluster = ["--task", "text", "--model", "scratch-simple", "--backend", "ray", "--ray_address", "auto"]
    ray_cluster += ["--output_dir", str(out)]
    for argv, message in (
        (["--task", "audio", "--model", "x"], "--task must be text, image, timeseries"),
        (["--task", "text", "--model", "bert", "--output_dir", str(out)], "unknown text model 'bert'"),
        (["--task", "timeseries", "--model", "reference", "--output_dir", str(out)], "fitted in closed form"),
        (["--task", "text", "--model", "scratch-simple", "--pruner", "asha"], "--pruner must be halving, hyperband"),
        (["--task", "text", "--model", "scratch-simple", "--n_trials", "0"], "--n_trials must be at least 1"),
        (["--task", "text", "--model", "scratch-simple", "--backend", "dask"], "--backend must be optuna or ray"),
        (["--task", "text", "--model", "scratch-simple", "--cpus_per_trial", "0"], "--cpus_per_trial must be at least"),
        (ray_cluster, "--ray_address auto: Could not find any running Ray instance"),
    ):
        code, err = run_main(sweep_main, "sweep.py", argv, capsys)
        assert code == 2 and message in err, err
    assert not out.exists()


def tiny_sweep(tmp_path, out, epochs: int) -> tuple[list[str], list[str]]:
    """sweep.py's own arguments for scratch-simple on the sentiment CSV with 1 to ``epochs`` epochs, and
    the training script's arguments (after ``--``)."""
    space = tmp_path / "space.yaml"
    space.write_text(
        f"num_train_epochs: {{type: int, low: 1, high: {epochs}}}\n"
        "early_stopping_patience: {type: int, low: 1, high: 3}\n"
    )
    own = ["--task", "text", "--model", "scratch-simple", "--output_dir", str(out), "--search_space", str(space)]
    training = [
        *sentiment_csv_args(tmp_path / "reviews.csv"), "--max_seq_length", "16", "--vocab_size", "200",
        "--latency_samples", "2", "--num_train_epochs", str(epochs),
    ]  # fmt: skip
    return own, training


@pytest.mark.slow
def test_two_trial_sweep_resumes_from_storage_and_retrains_the_best(tmp_path):
    out = tmp_path / "sweep"
    command, training = tiny_sweep(tmp_path, out, epochs=3)

    run_script("sweep.py", [*command, "--n_trials", "1", "--", *training], tmp_path)
    first = json.loads((out / "sweep.json").read_text())
    assert [t["configuration"] for t in first["trials"]] == ["default"]  # trial 0: the lineup defaults
    assert first["trials"][0]["params"]["learning_rate"] == pytest.approx(5e-3)
    assert first["trials"][0]["params"]["early_stopping_patience"] == 3  # scratch-simple's own
    started = first["trials"][0]

    # The same command with a larger total: trial 0 is read from study.db, only trial 1 runs.
    run_script("sweep.py", [*command, "--n_trials", "2", "--", *training], tmp_path)
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["finished_trials"] == 2 and [t["number"] for t in summary["trials"]] == [0, 1]
    assert summary["trials"][0] == started  # not rerun
    with sqlite3.connect(out / "study.db") as db:
        assert db.execute("select count(*) from trials").fetchone()[0] == 2
    assert summary["objective"] == "validation accuracy at the best epoch (maximised)"
    assert summary["best"]["value"] == max(t["value"] for t in summary["trials"] if t["value"] is not None)
    assert summary["improvement_over_default"] == pytest.approx(summary["best"]["value"] - started["value"])
    for trial in summary["trials"]:
        assert (
            trial["epoch_scores"] and trial["duration_s"] > 0 and set(trial["params"]) == set(summary["search_space"])
        )

    # Outputs: every trial in sweep.csv, the plots, and the best configuration retrained in the standard layout.
    assert len((out / "sweep.csv").read_text().strip().splitlines()) == 3
    assert {"optimization_history.png", "parallel_coordinate.png"} <= set(summary["plots"])
    best = json.loads((out / "best" / "results.json").read_text())
    (model,) = best["models"]
    recorded = model["hyperparameters"]
    flags = summary["best"]["training_arguments"]
    assert recorded["learning_rate"] == pytest.approx(float(flags[flags.index("--learning_rate") + 1]))
    assert recorded["early_stopping_patience"] == summary["best"]["params"]["early_stopping_patience"]
    assert summary["retrained"]["test"] == model["test"]["accuracy"]
    assert (out / "best" / "scratch-simple" / "model.safetensors").is_file()
    assert not (out / "trials").exists()  # trial checkpoints are removed
    assert "| 1 |" in (out / "sweep.md").read_text()


@pytest.mark.slow
def test_parallel_workers_share_one_study(tmp_path):
    out = tmp_path / "sweep"
    own, training = tiny_sweep(tmp_path, out, epochs=2)
    command = [sys.executable, str(ROOT / "training" / "sweep.py"), *own, "--n_trials", "4", "--", *training]
    workers = []
    for _ in range(2):
        workers.append(subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        time.sleep(3)  # as documented: workers start a few seconds apart
    errors = [worker.communicate(timeout=600)[1].decode() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], errors[0][-2000:] + errors[1][-2000:]
    summary = json.loads((out / "sweep.json").read_text())
    numbers = [t["number"] for t in summary["trials"]]
    assert numbers == list(range(len(numbers))) and 4 <= summary["finished_trials"] <= 5  # one study, shared
    assert all(t["state"] in ("COMPLETE", "PRUNED") for t in summary["trials"])
    assert (out / "best" / "results.json").is_file()


def test_ray_searcher_records_trials_as_the_optuna_backend_does():
    """StudySearch on an in-memory study, fed the results Ray's controller would send: the value is the best
    epoch's score, a trial the scheduler stopped is PRUNED, and the result Ray stops a trial on (which it
    does not pass to on_trial_result) is still recorded."""
    import optuna

    from training.experiments.sweep_ray import FINISHED_KEY, StudySearch

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.InMemoryStorage()
    search = StudySearch(
        space=lambda trial: {"lr": trial.suggest_float("lr", 0.1, 1.0)}, metric="objective", mode="max",
        storage=storage, study_name="study",
    )  # fmt: skip
    study = optuna.load_study(study_name="study", storage=storage)

    def result(step: int, score: float, finished: bool = False) -> dict:
        return {"training_iteration": step, "objective": score, "epoch": float(step), FINISHED_KEY: finished}

    for trial_id in ("finished", "stopped", "last-epoch-stop"):
        search.suggest(trial_id)
    for step, score in enumerate([0.5, 0.9, 0.7], start=1):  # the best epoch is the 2nd; early stopping at the 3rd
        search.on_trial_result("finished", result(step, score, finished=step == 3))
    search.on_trial_result("finished", result(3, 0.7, finished=True))  # Ray repeats the last result at the end
    search.on_trial_complete("finished", result(3, 0.7, finished=True))
    search.on_trial_result("stopped", result(1, 0.4))
    search.on_trial_complete("stopped", result(2, 0.3))  # the scheduler's STOP, on a result it kept to itself
    search.on_trial_result("last-epoch-stop", result(1, 0.6))
    search.on_trial_complete("last-epoch-stop", result(2, 0.8, finished=True))  # ASHA stops at max_t: not pruned

    finished, stopped, last = study.get_trials()
    assert (finished.state.name, finished.value) == ("COMPLETE", 0.9)
    assert finished.intermediate_values == {1: 0.5, 2: 0.9, 3: 0.7}
    assert (stopped.state.name, stopped.value, stopped.intermediate_values) == ("PRUNED", 0.3, {1: 0.4, 2: 0.3})
    assert (last.state.name, last.value, last.user_attrs["epochs_trained"]) == ("COMPLETE", 0.8, 2.0)


def test_the_objective_is_the_primary_metric_at_the_epoch_the_trial_keeps():
    """Models that keep their epoch of lowest validation loss (the time-series lineup) are scored by the primary
    metric at that epoch, by both backends: not by the loss, nor by their best accuracy of any epoch."""
    import optuna
    from transformers import TrainerState

    from training.experiments.sweep import best_epoch_score
    from training.experiments.sweep_ray import FINISHED_KEY, StudySearch

    epochs = [(0.9, 0.5), (0.4, 0.7), (0.5, 0.9)]  # (validation loss, accuracy): the loss is lowest at epoch 2
    state = TrainerState(best_metric=0.4, best_global_step=20)
    state.log_history = [{"loss": 1.0, "step": 10}] + [
        {"eval_loss": loss, "eval_accuracy": accuracy, "step": 10 * (i + 1)}
        for i, (loss, accuracy) in enumerate(epochs)
    ]
    assert best_epoch_score(state, "eval_loss", "eval_accuracy") == 0.7
    assert (
        best_epoch_score(TrainerState(best_metric=0.9, log_history=state.log_history[1:]), "loss", "eval_loss") == 0.9
    )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.InMemoryStorage()
    search = StudySearch(
        space=lambda trial: {"lr": trial.suggest_float("lr", 0.1, 1.0)}, metric="objective", mode="max",
        storage=storage, study_name="study", selected_by="eval_loss", lower_is_better=True,
    )  # fmt: skip
    search.suggest("trial")
    for step, (loss, accuracy) in enumerate(epochs, start=1):
        result = {"training_iteration": step, "objective": accuracy, "eval_loss": loss, "epoch": float(step)}
        search.on_trial_result("trial", {**result, FINISHED_KEY: step == 3})
    search.on_trial_complete("trial", {**result, FINISHED_KEY: True})
    assert optuna.load_study(study_name="study", storage=storage).get_trials()[0].value == 0.7


@pytest.mark.slow
def test_ray_backend_runs_the_same_study_and_resumes_on_a_cluster(tmp_path):
    """--backend ray on a local Ray: trial 0 is the default, trials land in study.db; then the README's
    cluster command (--ray_address) on a simulated cluster (ray.cluster_utils: a head with no CPUs and two
    one-CPU worker nodes, all on this machine, so every trial runs on a worker node) adds only the missing
    trials; the outputs are the Optuna backend's (sweep.json, plots, the retrained best)."""
    from ray.cluster_utils import Cluster

    out = tmp_path / "sweep"
    own, training = tiny_sweep(tmp_path, out, epochs=2)
    command = [*own, "--backend", "ray", "--cpus_per_trial", "1"]
    run_script("sweep.py", [*command, "--n_trials", "2", "--skip_best_retrain", "true", "--", *training], tmp_path)
    first = json.loads((out / "sweep.json").read_text())
    assert first["backend"] == "ray" and [t["configuration"] for t in first["trials"]] == ["default", "searched"]
    assert first["trials"][0]["params"]["learning_rate"] == pytest.approx(5e-3)

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        command += ["--ray_address", cluster.address]
        run_script("sweep.py", [*command, "--n_trials", "4", "--", *training], tmp_path)
    finally:
        cluster.shutdown()
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["finished_trials"] == 4 and summary["trials"][:2] == first["trials"]  # not rerun
    for trial in summary["trials"]:
        assert trial["state"] in ("COMPLETE", "PRUNED") and trial["duration_s"] > 0
        scores = [score for _, score in sorted((int(epoch), score) for epoch, score in trial["epoch_scores"].items())]
        # As with Optuna alone: the best epoch's score, or for a pruned trial its last one.
        assert trial["value"] == (max(scores) if trial["state"] == "COMPLETE" else scores[-1])
    assert "on Ray Tune" in (out / "sweep.md").read_text()
    assert (out / "best" / "results.json").is_file() and (out / "optimization_history.png").is_file()
    assert not (out / "ray").exists() and not (out / "trials").exists()  # Ray's copies and checkpoints removed
