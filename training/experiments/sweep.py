"""Hyperparameter search for one model of a lineup: ``Trainer.hyperparameter_search`` with Optuna.

    python training/sweep.py --task image --model scratch-complex --n_trials 20
    python training/sweep.py --task text --model glove-lstm --n_trials 20 -- --train_file my.csv
    python training/sweep.py --task text --model scratch-simple --search_space space.yaml
    python training/sweep.py --task timeseries --model scratch-complex --n_trials 20

Everything after ``--`` goes to the training script's parser unchanged (data arguments, ``--seed``...).
The objective is the primary metric on the validation split at the epoch the model keeps (its best by the
primary metric; for the time-series lineup, by validation loss); the test
split is never looked at during the search. The default configuration (the model's lineup
defaults) is always trial 0, so the search reports what it gained over it.

Search space (``--search_space FILE.yaml|json`` replaces entries or adds TrainingArguments fields;
``{"dropout": null}`` removes one):

- ``learning_rate``: log-uniform from 1/5 to 5x the model's default;
- ``per_device_train_batch_size``: 16, 32, 64;
- ``optim``: AdamW (the Trainer's default implementation), sgd (momentum 0.9, at 10x the sampled
  learning rate, SGD's usual scale), rmsprop, adafactor;
- ``weight_decay``: 0 to 0.1;
- ``dropout`` (models with a ``--dropout`` setting): 0 to 0.5;
- ``num_train_epochs``: a quarter of the default to the default; early stopping keeps the model's patience,
  unless the space file adds ``early_stopping_patience`` (e.g. ``{type: int, low: 2, high: 10}``).

Bad trials are pruned on their per-epoch validation score: Optuna's SuccessiveHalvingPruner by
default (``--pruner hyperband``, ``median`` or ``none`` otherwise). Trials live in an Optuna storage,
SQLite in the output directory by default: rerun the same command to resume after a crash or to add
trials (``--n_trials`` is the study's total), and start the same command in several terminals or
machines with one ``--storage`` (a PostgreSQL/MySQL URL for many workers) to run trials in parallel.
``--backend ray`` runs the same study through Ray Tune instead (``training/experiments/sweep_ray.py``): Ray starts
the trials in parallel on this machine, or over a cluster with ``--ray_address auto``, and its schedulers
(ASHA for ``halving``, HyperBand, median stopping) prune.

Writes ``OUTPUT_DIR`` (default ``outputs/sweep-<task>-<model>``): ``study.db``, ``sweep.json`` and
``sweep.csv`` (every trial's parameters, scores, epochs and duration), ``sweep.md``, the plots
``optimization_history.png``, ``param_importances.png``, ``parallel_coordinate.png``, and ``best/``:
the best configuration retrained by the training script and evaluated on test, in the standard layout.
"""

import copy
import dataclasses
import importlib.util
import json
import logging
import os
import shutil
import socket
import sys
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import optuna
import yaml
from torch import nn
from transformers import EarlyStoppingCallback, HfArgumentParser, Trainer, TrainerCallback, TrainingArguments

from training.core.arguments import split_passthrough
from training.core.ensemble import ENSEMBLE
from training.core.errors import UserError, run_cli
from training.core.experiment import PreparedModel, build_trainer, use_all_cpu_cores
from training.core.results import choose_primary_metric, markdown_table, write_json
from training.core.tasks import TASK_NAMES
from training.reporting import insights
from training.workflow import run_training_script

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

logger = logging.getLogger("sweep")

OTHER_OPTIMIZERS = ["sgd", "rmsprop", "adafactor"]  # beside AdamW
SGD_LR_SCALE = 10  # SGD with momentum wants about 10x Adam's learning rate (as in the optimizer ablation)
TRAINER_FIELDS = {f.name for f in dataclasses.fields(TrainingArguments)}
PRUNERS = ("halving", "hyperband", "median", "none")
BACKENDS = ("optuna", "ray")
PATIENCE = "early_stopping_patience"
# Parameters the training script takes as its own flags, not TrainingArguments: the model's dropout and
# the early-stopping callback's patience.
SCRIPT_FLAGS = ("dropout", PATIENCE)
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@dataclass
class SweepArguments:
    task: str = field(metadata={"help": "text, image or timeseries."})
    model: str = field(metadata={"help": "The lineup model to tune, e.g. scratch-complex or glove-lstm."})
    n_trials: int = field(default=20, metadata={"help": "Trials in the study in all (earlier runs count)."})
    output_dir: str | None = field(default=None, metadata={"help": "Default: outputs/sweep-<task>-<model>."})
    storage: str | None = field(
        default=None, metadata={"help": "Optuna storage URL (any RDB URL). Default: sqlite:///OUTPUT_DIR/study.db."}
    )
    study_name: str | None = field(default=None, metadata={"help": "Default: <task>-<model>."})
    search_space: str | None = field(
        default=None, metadata={"help": "YAML/JSON file of search-space entries replacing the defaults (docstring)."}
    )
    pruner: str = field(
        default="halving",
        metadata={"help": "halving (successive halving over epochs), hyperband, median or none (make_pruner)."},
    )
    sampler_seed: int | None = field(default=None, metadata={"help": "TPE sampler seed. Default: the training seed."})
    skip_best_retrain: bool = field(default=False, metadata={"help": "Do not retrain the best configuration."})
    backend: str = field(
        default="optuna",
        metadata={"help": "optuna (trials in this process; workers share --storage) or ray (Ray Tune schedules them)."},
    )
    ray_address: str | None = field(
        default=None,
        metadata={"help": "--backend ray: a running Ray cluster (auto, or HEAD:6379). Default: start a local Ray."},
    )
    cpus_per_trial: int = field(default=1, metadata={"help": "--backend ray: CPU cores (and torch threads) per trial."})
    rewrite_results: bool = field(
        default=False,
        metadata={
            "help": "Write the results (sweep.json, best/) even though another worker claimed them: after that "
            "worker crashed on another machine (one that crashed on this machine is noticed without it)."
        },
    )


def default_space(prepared: PreparedModel) -> dict[str, dict[str, Any]]:
    """The documented search space around the model's own defaults (see the module docstring)."""
    args = prepared.training_args
    epochs = int(args.num_train_epochs)
    # The default AdamW as the Trainer names it here (adamw_torch_fused on recent torch), then the others.
    default_optim = getattr(args.optim, "value", args.optim)
    adamw = default_optim if default_optim.startswith("adamw") else "adamw_torch"
    optimizers = [adamw, *OTHER_OPTIMIZERS] + ([] if default_optim in (adamw, *OTHER_OPTIMIZERS) else [default_optim])
    space: dict[str, dict[str, Any]] = {
        "learning_rate": {"type": "float", "low": args.learning_rate / 5, "high": args.learning_rate * 5, "log": True},
        "per_device_train_batch_size": {"type": "categorical", "choices": [16, 32, 64]},
        "optim": {"type": "categorical", "choices": optimizers},
        "weight_decay": {"type": "float", "low": 0.0, "high": 0.1},
        "num_train_epochs": {"type": "int", "low": max(1, epochs // 4), "high": epochs},
    }
    if hasattr(prepared.run.model.config, "dropout"):
        space["dropout"] = {"type": "float", "low": 0.0, "high": 0.5}
    return space


def load_space(
    path: str | None, space: dict[str, dict[str, Any]], early_stopping: bool = True
) -> dict[str, dict[str, Any]]:
    """The default space with the entries of a YAML/JSON file replaced (``null`` removes one), checked.
    ``early_stopping``: whether the model trains with early stopping (whose patience can then be searched)."""
    if path is None:
        return space
    file = Path(path)
    if not file.is_file():
        raise UserError(f"--search_space {path} does not exist.")
    overrides = yaml.safe_load(file.read_text(encoding="utf-8"))  # YAML is a superset of JSON
    if not isinstance(overrides, dict):
        raise UserError(f"--search_space {path} must map parameter names to entries like {{type: float, low, high}}.")
    merged = {**space, **overrides}
    for name, entry in list(merged.items()):
        if entry is None:
            del merged[name]
        elif name not in space and name not in TRAINER_FIELDS and name != PATIENCE:
            raise UserError(
                f"--search_space: {name!r} is neither in the default space ({', '.join(space)}) nor a "
                "TrainingArguments field."
            )
        elif (
            not isinstance(entry, dict)
            or entry.get("type") not in ("float", "int", "categorical")
            or not ("choices" in entry if entry["type"] == "categorical" else {"low", "high"} <= set(entry))
        ):
            raise UserError(
                f"--search_space: {name} must be {{type: float|int, low: L, high: H[, log: true]}} or "
                f"{{type: categorical, choices: [...]}} (got {entry!r})."
            )
    if "dropout" in merged and "dropout" not in space:
        raise UserError("--search_space: this model has no dropout setting to search.")
    if PATIENCE in merged and not early_stopping:
        raise UserError(
            f"--search_space: {PATIENCE}: this model trains without early stopping. Turn it on with "
            f"`-- --{PATIENCE} N` (the training script's flag), then search its patience."
        )
    return merged


def sample(trial: optuna.Trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The trial's values (Optuna returns the same value when a name is asked for twice)."""
    values = {}
    for name, entry in space.items():
        if entry["type"] == "categorical":
            values[name] = trial.suggest_categorical(name, entry["choices"])
        elif entry["type"] == "int":
            values[name] = trial.suggest_int(name, int(entry["low"]), int(entry["high"]), log=entry.get("log", False))
        else:
            values[name] = trial.suggest_float(name, entry["low"], entry["high"], log=entry.get("log", False))
    return values


def training_arguments(params: dict[str, Any]) -> dict[str, Any]:
    """The TrainingArguments a trial's parameters stand for: SGD gets momentum and its learning-rate scale,
    and every other optimizer an empty ``optim_args`` (Trainer keeps its arguments between trials)."""
    values = {k: v for k, v in params.items() if k not in SCRIPT_FLAGS}
    if values.get("optim") == "sgd":
        values["optim_args"] = "momentum=0.9"
        values["learning_rate"] = values["learning_rate"] * SGD_LR_SCALE
    elif "optim" in values:
        values["optim_args"] = ""
    return values


def trial_arguments(trial: optuna.Trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A trial's TrainingArguments, sampled from the space."""
    return training_arguments(sample(trial, space))


def trial_params(trial: optuna.Trial | dict[str, Any], space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A running trial's parameters: Optuna's trial asked again (it answers with the same values), or the
    configuration Ray passes as a dict."""
    return trial if isinstance(trial, dict) else sample(trial, space)


def set_dropout(model: nn.Module, p: float) -> None:
    """Every dropout layer of a lineup model to ``p``, and its config (what ``save_pretrained`` records)."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = p
    model.config.dropout = p


class EpochReportingTrainer(Trainer):
    """Reports each evaluation to Optuna at its epoch, not its optimizer step: the batch size is searched,
    so steps mean different amounts of training in different trials, and the pruner compares trials
    step by step. (Trainer has no setting for this; the override keeps its reporting and pruning.)"""

    def _report_to_hp_search(self, trial: Any, step: int, metrics: dict[str, float]) -> None:
        super()._report_to_hp_search(trial, round(self.state.epoch or 0), metrics)


class TrialRecord(TrainerCallback):
    """At the start of each trial, give the early-stopping callback the trial's patience when the space
    searches it (a callback setting, which Trainer's search does not reach). At the end: make the objective
    the best epoch's score (the model that ``load_best_model_at_end`` keeps, not the last epoch's) and
    record what the trial did."""

    def __init__(self, space: dict[str, dict[str, Any]] | None = None, objective_key: str = "eval_accuracy") -> None:
        self.trainer: Trainer | None = None
        self.space = space or {}
        self.objective_key = objective_key

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        trial = getattr(self.trainer, "_trial", None)
        if self.trainer is None or trial is None or PATIENCE not in self.space:
            return
        patience = int(trial_params(trial, self.space)[PATIENCE])
        for callback in self.trainer.callback_handler.callbacks:
            if isinstance(callback, EarlyStoppingCallback):
                callback.early_stopping_patience = patience

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        trial = getattr(self.trainer, "_trial", None)
        if self.trainer is None or not isinstance(trial, optuna.Trial):
            return
        if state.best_metric is not None:
            self.trainer.objective = best_epoch_score(state, args.metric_for_best_model, self.objective_key)
        trial.set_user_attr("epochs_trained", round(float(state.epoch or 0), 2))


def best_epoch_score(state: Any, selected_by: str, objective_key: str) -> float:
    """The objective (the primary metric) at the epoch the trial keeps, which ``selected_by`` chose: the same
    metric, or another (the time-series lineup keeps the epoch of lowest validation loss)."""
    key = selected_by if selected_by.startswith("eval_") else f"eval_{selected_by}"
    evaluations = [entry for entry in state.log_history if objective_key in entry and key in entry]
    kept = next((e for e in evaluations if e.get("step") == state.best_global_step), None)
    if kept is None:  # an older Trainer without best_global_step: the evaluation that scored best_metric
        kept = next(e for e in evaluations if e[key] == state.best_metric)
    return float(kept[objective_key])


def most_epochs(space: dict[str, dict[str, Any]], default: int) -> int:
    """The most epochs a trial of the space can train (Ray's schedulers stop trials at that budget)."""
    entry = space.get("num_train_epochs")
    if entry is None:
        return default
    return int(max(entry["choices"]) if entry["type"] == "categorical" else entry["high"])


def make_pruner(name: str) -> optuna.pruners.BasePruner | None:
    """Optuna's pruner; its steps are epochs (EpochReportingTrainer). Successive halving (the default)
    gives every trial one epoch and lets only the best third at each rung (1, 3, 9... epochs) go on:
    a 20-trial search of a model that trains for 20 epochs costs about as much as five full trainings.
    Hyperband hedges against late bloomers by also running brackets that start pruning later, at
    about twice the cost; median prunes below the median epoch score after 5 full trials."""
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, reduction_factor=3)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
    return None


def create_storage(url: str) -> optuna.storages.BaseStorage:
    """An RDB storage with heartbeats: a trial left running by a crashed worker is marked failed after
    the grace period and retried once with the same parameters."""
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
    try:
        return optuna.storages.RDBStorage(
            url, heartbeat_interval=60, grace_period=180, heartbeat_stale_trial_callback=retry
        )
    except Exception as error:  # bad URL, missing driver, unreachable server
        raise UserError(f"cannot open the Optuna storage {url!r}: {error}. Check --storage.") from None


def default_trial(prepared: PreparedModel, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The model's default configuration in the space's terms: trial 0 of every study."""
    args = prepared.training_args
    values = {
        "learning_rate": args.learning_rate,
        "per_device_train_batch_size": args.per_device_train_batch_size,
        "optim": getattr(args.optim, "value", args.optim),
        "weight_decay": args.weight_decay,
        "num_train_epochs": int(args.num_train_epochs),
        "dropout": getattr(prepared.run.model.config, "dropout", None),
        PATIENCE: prepared.early_stopping_patience,
    }
    return {k: v for k, v in values.items() if k in space}


def retrain_arguments(trial: optuna.trial.FrozenTrial) -> list[str]:
    """The training script flags that reproduce a trial (its own flags and TrainingArguments')."""
    values = training_arguments(trial.params) | {k: v for k, v in trial.params.items() if k in SCRIPT_FLAGS}
    flags = []
    for name, value in values.items():
        if name == "optim_args" and not value:
            continue
        flags += [f"--{name}", str(value)]
    return flags


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """Every trial of the study, as sweep.json records it."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        duration = (trial.datetime_complete - trial.datetime_start).total_seconds() if trial.datetime_complete else None
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                "value": trial.value,
                "params": trial.params,
                "training_arguments": training_arguments(trial.params),
                "configuration": trial.user_attrs.get("configuration", "searched"),
                "epochs_trained": trial.user_attrs.get("epochs_trained"),
                "epoch_scores": {int(k): v for k, v in trial.intermediate_values.items()},
                "duration_s": round(duration, 1) if duration is not None else None,
            }
        )
    return rows


def save_plots(study: optuna.Study, output_dir: Path) -> list[str]:
    """Optuna's own plots (matplotlib backend); those the study is too small for are skipped."""
    from optuna.visualization import matplotlib as plots

    made = []
    for name, plot in (
        ("optimization_history", plots.plot_optimization_history),
        ("param_importances", plots.plot_param_importances),
        ("parallel_coordinate", plots.plot_parallel_coordinate),
    ):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ExperimentalWarning: the matplotlib plots are marked experimental
                axes = plot(study)
            figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
            figure.set_size_inches(8, 5)
            figure.tight_layout()
            figure.savefig(output_dir / f"{name}.png", dpi=110)
            plt.close(figure)
            made.append(f"{name}.png")
        except (ValueError, RuntimeError, ZeroDivisionError) as error:  # e.g. importances need 2+ finished trials
            logger.info("No %s plot: %s", name, error)
    return made


def summary_markdown(summary: dict[str, Any], validation_examples: int) -> str:
    """``sweep.md``: the search in a paragraph (the report's own) and the trials table."""
    names = list(summary["search_space"])
    header = ["trial", "state", f"validation {summary['primary_metric']}", "epochs", "time (s)", *names]
    rows = [
        [t["number"], t["state"].lower() + (" (default)" if t["configuration"] == "default" else ""),
         "" if t["value"] is None else f"{t['value']:.4f}", t["epochs_trained"] or "", t["duration_s"] or "",
         *(insights.short(t["params"].get(n, "")) for n in names)]
        for t in summary["trials"]
    ]  # fmt: skip
    heading = f"# Sweep: {summary['model']} ({summary['task']})"
    paragraph = insights.search_summary(summary, validation_examples)
    return "\n".join([heading, "", paragraph, "", *markdown_table(header, rows)])


def claim_results(
    storage: optuna.storages.BaseStorage, study_name: str, finished_trials: int, take_over: bool = False
) -> tuple[bool, dict[str, Any]]:
    """Whether this worker writes the results of ``study_name`` at ``finished_trials`` finished trials, and
    the claim's record (who claimed it, whether the results are written).

    Parallel workers can finish at the same moment and each see no trial running; exactly one may write
    ``sweep.json`` and retrain the best. The claim is a study named after the result, created in the
    sweep's own storage: the storage creates a name once (a unique column, on SQLite and on a database
    server alike) and refuses it to everyone else. A claim whose holder died on this machine before
    writing is taken over; ``take_over`` takes any unwritten or written one (``--rewrite_results``).
    """
    name = f"{study_name}:results-at-{finished_trials}-trials"
    record = {"host": socket.gethostname(), "pid": os.getpid(), "claimed": time.strftime("%Y-%m-%d %H:%M:%S")}
    for _ in range(2):
        try:
            study_id = storage.create_new_study([optuna.study.StudyDirection.MAXIMIZE], study_name=name)
        except optuna.exceptions.DuplicatedStudyError:
            study_id = storage.get_study_id_from_name(name)
            held = storage.get_study_user_attrs(study_id)
            if not (take_over or _holder_died(held)):
                return False, held
            try:
                storage.delete_study(study_id)  # then claim it again: only one of several takers can
            except KeyError:  # another taker deleted it first
                pass
            continue
        for key, value in record.items():
            storage.set_study_user_attr(study_id, key, value)
        return True, {**record, "study_id": study_id}
    return False, {}


def wait_for_earlier_writers(
    storage: optuna.storages.BaseStorage, study_name: str, finished_trials: int, poll_s: float = 5.0
) -> None:
    """Wait while a claim at fewer finished trials is being written by a live worker. A worker that started
    a trial just as another saw none running finishes later and writes the results again, with its trial:
    the two must not write ``best/`` at once."""
    prefix = f"{study_name}:results-at-"
    while True:
        writing = []
        for summary in storage.get_all_studies():
            count = summary.study_name.removeprefix(prefix).removesuffix("-trials")
            if summary.study_name.startswith(prefix) and count.isdigit() and int(count) < finished_trials:
                held = summary.user_attrs
                if not held.get("written") and not _holder_died(held):
                    writing.append(summary.study_name)
        if not writing:
            return
        logger.info("Waiting for another worker to finish writing %s.", ", ".join(writing))
        time.sleep(poll_s)


def _holder_died(held: dict[str, Any]) -> bool:
    """Whether a claim's holder was a process on this machine that no longer runs, before it wrote."""
    if held.get("written") or held.get("host") != socket.gethostname() or "pid" not in held:
        return False
    try:
        os.kill(int(held["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def remove_checkpoints(worker_dir: Path) -> None:
    """This worker's trial checkpoints, and the trials folder once no other worker has any there."""
    shutil.rmtree(worker_dir, ignore_errors=True)
    try:
        worker_dir.parent.rmdir()
    except OSError:  # another worker's trial is running
        pass


def main() -> None:
    own, passthrough = split_passthrough(sys.argv[1:])
    (sweep,) = HfArgumentParser(SweepArguments).parse_args_into_dataclasses(own)
    if sweep.task not in TASK_NAMES:
        raise UserError(f"--task must be {', '.join(TASK_NAMES)} (got {sweep.task!r}).")
    if sweep.pruner not in PRUNERS:
        raise UserError(f"--pruner must be {', '.join(PRUNERS)} (got {sweep.pruner!r}).")
    if sweep.n_trials < 1:
        raise UserError(f"--n_trials must be at least 1 (got {sweep.n_trials}).")
    if sweep.backend not in BACKENDS:
        raise UserError(f"--backend must be optuna or ray (got {sweep.backend!r}).")
    if sweep.backend == "ray" and importlib.util.find_spec("ray") is None:
        raise UserError("--backend ray needs Ray Tune: pip install 'ray[tune]' (or use --backend optuna).")
    if sweep.cpus_per_trial < 1:
        raise UserError(f"--cpus_per_trial must be at least 1 (got {sweep.cpus_per_trial}).")
    script = importlib.import_module(f"training.train_{sweep.task}")
    trained = [name for name in script.LINEUP if name != ENSEMBLE]  # the ensemble has no hyperparameters to search
    if sweep.model not in trained:
        raise UserError(f"unknown {sweep.task} model {sweep.model!r}; choose from {', '.join(trained)}.")
    output_dir = Path(sweep.output_dir or f"outputs/sweep-{sweep.task}-{sweep.model}")
    args = script.parse([*passthrough, "--output_dir", str(output_dir / "trials")])
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    optuna.logging.enable_propagation()
    optuna.logging.disable_default_handler()
    use_all_cpu_cores()
    if sweep.backend == "ray":
        from training.experiments import sweep_ray

        sweep_ray.connect(sweep.ray_address, sweep.cpus_per_trial)  # before anything is written

    # The data and the model exactly as the training script prepares them.
    data = script.load_data(args)
    counts = [int(c) for c in np.bincount(data.splits["train"]["label"])]
    primary_metric, _ = choose_primary_metric(counts, args.run.primary_metric)
    seed = args.training.seed
    prepared = script.prepare(sweep.model, args, data, data.splits, seed)
    if prepared.trainer_class is not None:
        raise UserError(f"{sweep.model} is fitted in closed form, without the Trainer's settings: nothing to search.")
    space = load_space(
        sweep.search_space, default_space(prepared), early_stopping=bool(prepared.early_stopping_patience)
    )
    template = prepared.run.model

    def model_init(trial: optuna.Trial | dict[str, Any] | None = None) -> nn.Module:
        # Every trial starts from the same initial weights (the seeded build), with its own dropout
        # (Ray passes the trial's configuration as a dict).
        model = copy.deepcopy(template)
        if trial is not None and "dropout" in space:
            set_dropout(model, trial_params(trial, space)["dropout"])
        return model

    objective_key = f"eval_{primary_metric}"
    record = TrialRecord(space, objective_key)
    # Each worker keeps its trials' checkpoints in a folder of its own, which it removes after each trial:
    # parallel workers share the output directory, and one's cleanup must not delete another's checkpoint.
    checkpoints = (output_dir / "trials" / f"{socket.gethostname()}-{os.getpid()}").resolve()  # absolute: for Ray
    trainer = build_trainer(
        prepared, label_names=data.label_names, primary_metric=primary_metric, checkpoints=checkpoints,
        model_init=model_init, callbacks=[record],
        trainer_class=sweep_ray.RayTrialTrainer if sweep.backend == "ray" else EpochReportingTrainer,
    )  # fmt: skip
    record.trainer = trainer

    output_dir.mkdir(parents=True, exist_ok=True)
    storage_url = sweep.storage or f"sqlite:///{output_dir / 'study.db'}"
    storage = create_storage(storage_url)
    study_name = sweep.study_name or f"{sweep.task}-{sweep.model}"
    study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize", load_if_exists=True)
    if not study.get_trials(deepcopy=False):
        study.enqueue_trial(default_trial(prepared, space), user_attrs={"configuration": "default"})
    base_seed = seed if sweep.sampler_seed is None else sweep.sampler_seed

    def finished() -> int:
        return sum(t.state in FINISHED for t in study.get_trials(deepcopy=False))

    if sweep.backend == "ray":
        if (missing := sweep.n_trials - finished()) > 0:
            sweep_ray.run_trials(
                trainer, study=study, storage_url=storage_url, space_values=partial(trial_arguments, space=space),
                n_trials=missing, objective_key=objective_key,
                sampler=optuna.samplers.TPESampler(seed=base_seed + len(study.trials)), pruner=sweep.pruner,
                max_epochs=most_epochs(space, int(prepared.training_args.num_train_epochs)),
                cpus_per_trial=sweep.cpus_per_trial, ray_dir=output_dir / "ray",
            )  # fmt: skip
            remove_checkpoints(checkpoints)
    else:
        # One trial per call, re-counting the study each time: resumed runs and parallel workers stop at
        # the study's total, not at n_trials of their own.
        while (done := finished()) < sweep.n_trials:
            logger.info("Trial %d of %d", done + 1, sweep.n_trials)
            trainer.hyperparameter_search(
                hp_space=partial(trial_arguments, space=space),
                compute_objective=lambda metrics: metrics[objective_key],
                n_trials=1, direction="maximize", backend="optuna", storage=storage, study_name=study_name,
                load_if_exists=True, sampler=optuna.samplers.TPESampler(seed=base_seed + len(study.trials)),
                pruner=make_pruner(sweep.pruner),
            )  # fmt: skip
            remove_checkpoints(checkpoints)  # the trial's: its score is stored

    study = optuna.load_study(storage=storage, study_name=study_name)
    running = sum(t.state == optuna.trial.TrialState.RUNNING for t in study.get_trials(deepcopy=False))
    if running:  # parallel workers: the last one to finish writes the summary and retrains the best
        logger.info("%d trial(s) still running in other workers: the last of them writes the results.", running)
        return
    claimed, claim = claim_results(storage, study_name, finished(), take_over=sweep.rewrite_results)
    if not claimed:
        holder = f"worker {claim['pid']} on {claim['host']}" if "pid" in claim else "another worker"  # just claimed
        state = "wrote" if claim.get("written") else "is writing"
        print(
            f"The study {study_name!r} is finished ({finished()} trials): {holder} {state} its results in "
            f"{output_dir}. Nothing to do here; rerun with a larger --n_trials to add trials."
            + ("" if claim.get("written") else " If that worker is gone, rerun with --rewrite_results true.")
        )
        return
    if not sweep.rewrite_results:
        wait_for_earlier_writers(storage, study_name, finished())
    study = optuna.load_study(storage=storage, study_name=study_name)
    trials = trial_rows(study)
    best = study.best_trial
    default = next((t for t in trials if t["configuration"] == "default" and t["value"] is not None), None)
    summary: dict[str, Any] = {
        "task": sweep.task,
        "model": sweep.model,
        "primary_metric": primary_metric,
        "objective": f"validation {primary_metric} at the best epoch (maximised)",
        "search_space": space,
        "sampler": "TPE",
        "backend": sweep.backend,
        "pruner": sweep.pruner,
        "study_name": study_name,
        "storage": storage_url if "@" not in storage_url else storage_url.split("@")[-1],  # no password
        "training_arguments": passthrough,
        "finished_trials": sum(t["state"] in ("COMPLETE", "PRUNED") for t in trials),
        "pruned_trials": sum(t["state"] == "PRUNED" for t in trials),
        "search_seconds": round(sum(t["duration_s"] or 0 for t in trials), 1),
        "best": {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            "training_arguments": retrain_arguments(best),
        },
        "default": default and {"number": default["number"], "value": default["value"], "params": default["params"]},
        "improvement_over_default": default and round(best.value - default["value"], 6),
        "plots": save_plots(study, output_dir),
        "trials": trials,
    }
    study.trials_dataframe().to_csv(output_dir / "sweep.csv", index=False)

    if not sweep.skip_best_retrain:
        summary["retrained"] = retrain_best(script, sweep, best, passthrough, output_dir / "best", primary_metric)
    write_json(summary, output_dir / "sweep.json")
    markdown = summary_markdown(summary, len(data.splits["validation"]))
    (output_dir / "sweep.md").write_text(markdown + "\n", encoding="utf-8")
    storage.set_study_user_attr(claim["study_id"], "written", True)
    print(markdown)


def retrain_best(
    script: Any, sweep: SweepArguments, best: optuna.trial.FrozenTrial, passthrough: list[str], run_dir: Path,
    primary_metric: str,
) -> dict[str, Any]:  # fmt: skip
    """The best trial's configuration trained by the training script in the standard layout (kept when
    an earlier run already retrained this trial), with its validation and test scores."""
    marker = run_dir / "sweep_trial.json"
    done = (run_dir / "results.json").is_file() and marker.is_file()
    if not done or json.loads(marker.read_text())["number"] != best.number:
        flags = ["--models", sweep.model, *passthrough, *retrain_arguments(best), "--primary_metric", primary_metric]
        start = time.perf_counter()
        run_training_script(sweep.task, flags, run_dir, f"retraining trial {best.number}")
        write_json({"number": best.number, "params": best.params, "seconds": time.perf_counter() - start}, marker)
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    (model,) = results["models"]
    return {
        "run_dir": str(run_dir),
        "trial": best.number,
        "validation": model["validation"][primary_metric],
        "test": model["test"][primary_metric],
        "train_runtime_s": model["train_runtime_s"],
        "sweep_validation": best.value,
    }


if __name__ == "__main__":
    run_cli(main)
