"""The steps every training script shares around its own data and models, in the order its
``main()`` calls them: ``start_run`` (logging, threads, checks before anything is written),
``describe_run`` (primary metric, ``dataset.json``), ``train_lineup`` (each model kept from an earlier run,
trained with cross-validation and repeated seeds when asked, or voted: the ensemble) and ``finish_run``
(``results.json``, ``comparison.md``).
"""

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import transformers
from accelerate import PartialState

from training.core.analysis import plot_run_curves
from training.core.arguments import RunArguments, ScriptArguments, selected_models
from training.core.data import ClassificationData
from training.core.describe import write_description
from training.core.ensemble import ENSEMBLE, fit_ensemble
from training.core.errors import UserError
from training.core.experiment import (
    EvaluationInputs,
    Prepare,
    check_folds,
    check_same_on_every_rank,
    cross_validate,
    load_finished,
    repeat_with_seeds,
    train_and_evaluate,
    use_all_cpu_cores,
)
from training.core.provenance import provenance
from training.core.results import (
    build_results,
    check_output_dir,
    choose_primary_metric,
    clear_previous_run,
    wants_resume,
    write_json,
    write_results,
)
from training.hub.publish import check_push_access, publish_run, split_hub_model_id
from training.reporting.model_card import build_model_card
from training.reporting.tables import comparison_markdown

logger = logging.getLogger(__name__)


@dataclass
class Run:
    """One invocation of a training script: what to train, where, and what has been measured so far."""

    task: str  # pipeline task: "text-classification", "image-classification"
    lineup: list[str]  # every model the script knows
    names: list[str]  # the ones to train now
    output_dir: Path
    resume: bool
    overwrite: bool
    is_main: bool  # only the main process writes files
    push: dict[str, Any] | None = None  # --push_to_hub: namespace, repo_prefix, token, private
    provenance: dict[str, Any] = field(default_factory=dict)  # the command, arguments, versions, commit
    primary_metric: str = ""
    primary_metric_reason: str = ""
    summaries: list[dict[str, Any]] = field(default_factory=list)


def start_run(task: str, lineup: list[str], args: ScriptArguments) -> Run:
    """Set up logging and CPU threads, then check model names, the output directory and, with
    ``--push_to_hub``, the Hub token: everything the user may have got wrong fails here, before
    anything is written. The run records how it was started (``provenance``)."""
    run_args, training_args = args.run, args.training
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    transformers.utils.logging.set_verbosity(training_args.get_process_log_level())
    is_main = training_args.process_index == 0
    if not is_main:  # one set of progress bars, the main process's
        datasets.disable_progress_bars()
    use_all_cpu_cores()
    names = selected_models(run_args.models, lineup)
    output_dir = Path(training_args.output_dir)
    resume = wants_resume(training_args.resume_from_checkpoint)
    if ENSEMBLE in names and len(names) < 3 and not resume:  # its members come from this run (or the resumed one)
        raise UserError(f"the {ENSEMBLE} votes over at least two other models: add them to --models.")
    if ENSEMBLE in names and names[-1] != ENSEMBLE:
        names = [n for n in names if n != ENSEMBLE] + [ENSEMBLE]  # after its members
    check_output_dir(output_dir, run_args.overwrite_output_dir, resume)
    push = None
    if training_args.push_to_hub:
        # Token and namespace are checked now, not after an hour of training.
        namespace, prefix = split_hub_model_id(training_args.hub_model_id)
        namespace, token = check_push_access(namespace, training_args.hub_token)
        private = bool(training_args.hub_private_repo)
        push = {"namespace": namespace, "repo_prefix": prefix, "token": token, "private": private}
    if training_args.world_size > 1 and (run_args.cv_folds or run_args.seeds > 1):
        raise UserError("--cv_folds and --seeds run in a single process: launch without several processes.")
    if training_args.world_size == 1 and "MASTER_ADDR" in os.environ and "ACCELERATE_MIXED_PRECISION" in os.environ:
        logger.warning(  # accelerate's simple launcher: asked for several processes, started one
            "accelerate launch started a single process: without GPUs it starts several only with --multi_gpu "
            "(accelerate launch --multi_gpu --num_processes N ...) or use torchrun --nproc_per_node N."
        )
    if training_args.world_size > 1:
        logger.info("Training with %d processes (%s).", training_args.world_size, training_args.parallel_mode.value)
        PartialState().wait_for_everyone()  # every process has checked the output directory before any writes
    parts = {"model": args.model, "data": args.data, "run": run_args, "training": training_args}
    record = provenance(parts, args.explicit)
    return Run(task, lineup, names, output_dir, resume, run_args.overwrite_output_dir, is_main, push, record)


def describe_run(run: Run, description: dict[str, Any], requested_metric: str) -> None:
    """Choose the primary metric from the training class balance, then (main process) clear an earlier
    run's files if asked and write ``dataset.json`` and ``class_balance.png``."""
    train_counts = [v["count"] for v in description["class_balance"]["train"].values()]
    run.primary_metric, run.primary_metric_reason = choose_primary_metric(train_counts, requested_metric)
    logger.info("Data: %s; primary metric %s. %s", description["num_examples"], run.primary_metric,
                run.primary_metric_reason)  # fmt: skip
    if run.is_main:
        if run.overwrite and not run.resume:
            clear_previous_run(run.output_dir, run.lineup)
        run.output_dir.mkdir(parents=True, exist_ok=True)
        write_description(description, run.output_dir)


def finished_model(run: Run, name: str) -> bool:
    """With ``--resume_from_checkpoint``: keep a model that an earlier run finished (True), else False."""
    finished = load_finished(run.output_dir, name) if run.resume else None
    if finished:
        logger.info("%s finished in an earlier run: keeping it.", name)
        run.summaries.append(finished)
    return finished is not None


def train_model(
    run: Run, prepare: Prepare, data: ClassificationData, inputs: EvaluationInputs, run_args: RunArguments, seed: int
) -> dict[str, Any]:
    """Train, evaluate and save one model (``prepare`` builds it for given splits and seed); with
    ``--cv_folds`` and ``--seeds``, the cross-validation and the other seeds' scores go into its metrics."""
    splits, label_names = data.splits, data.label_names
    if run_args.cv_folds:
        check_folds(splits["train"]["label"], run_args.cv_folds)  # before hours of training, not after
    prepared = prepare(splits, seed)
    check_same_on_every_rank(prepared)
    # What predict needs to read new data as this model was trained on: the column(s) each input was read from, and
    # the classes as the data spelled them (a competition's submission wants those). Saved with the config.
    prepared.run.model.config.input_columns = data.input_columns
    prepared.run.model.config.label_values = data.label_values or data.label_names
    work_dir = run.output_dir / prepared.run.name / "repeats"
    common = {"label_names": label_names, "primary_metric": run.primary_metric, "work_dir": work_dir}

    def more_measurements(metrics: dict[str, Any]) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if run_args.cv_folds:
            extra["cross_validation"] = cross_validate(prepare, splits, folds=run_args.cv_folds, seed=seed, **common)
        if run_args.seeds > 1:
            seeds = [seed + i for i in range(run_args.seeds)]
            extra["seeds"] = repeat_with_seeds(prepare, splits, first=metrics, seeds=seeds, **common)
        shutil.rmtree(work_dir, ignore_errors=True)
        return extra

    metrics = train_and_evaluate(
        prepared, label_names=label_names, primary_metric=run.primary_metric, output_dir=run.output_dir,
        inputs=inputs, resume=run.resume,
        more_measurements=more_measurements, train_eval_samples=run_args.train_eval_samples,
    )  # fmt: skip
    run.summaries.append(metrics)
    return metrics


def vote_ensemble(
    run: Run, data: ClassificationData, inputs: EvaluationInputs, weights: str = "auto"
) -> dict[str, Any]:
    """The soft vote of the run's other models, weighed as ``weights`` says (``--ensemble_weights``,
    ``core/ensemble.py``), saved as ``OUTPUT_DIR/ensemble`` and added to the comparison like a trained model."""
    metrics: dict[str, Any] = {}
    if run.is_main:
        members = [m for m in run.summaries if m["kind"] != "ensemble"]
        metrics = fit_ensemble(run.output_dir, members, data.label_names, inputs, weights, run.primary_metric)
        sampled = [m["train_evaluation"] for m in members if "train_evaluation" in m]
        if sampled:  # its train figures are its members' votes on their sample
            metrics["train_evaluation"] = sampled[0]
        write_json(metrics, run.output_dir / ENSEMBLE / "metrics.json")
        run.summaries.append(metrics)
    PartialState().wait_for_everyone()
    return metrics


def train_lineup(
    run: Run,
    prepare: Callable[[str], Prepare],
    data: ClassificationData,
    inputs: EvaluationInputs,
    run_args: RunArguments,
    seed: int,
    after_model: Callable[[Path], None] | None = None,
) -> None:
    """Every model of the run in turn: kept from an earlier run (``--resume_from_checkpoint``), trained
    (``prepare(name)(splits, seed)`` builds it) or, for the ensemble, voted from the models before it.
    ``after_model(model_dir)`` runs on the main process after each new model (an image run ships an example)."""
    for name in run.names:
        if finished_model(run, name):
            continue
        if name == ENSEMBLE:  # the soft vote of the models above
            vote_ensemble(run, data, inputs, run_args.ensemble_weights)
        else:
            train_model(run, prepare(name), data, inputs, run_args, seed)
        if after_model is not None and run.is_main:
            after_model(run.output_dir / name)


def finish_run(run: Run, description: dict[str, Any]) -> None:
    """Write each model's card (``README.md``), then the comparison (``results.json`` last: its presence
    marks a complete run), and print it."""
    if not run.is_main:
        return
    results = build_results(
        task=run.task, description=description, primary_metric=run.primary_metric,
        primary_metric_reason=run.primary_metric_reason, models=run.summaries, provenance=run.provenance,
    )  # fmt: skip
    for metrics in run.summaries:
        model_dir = run.output_dir / metrics["name"]
        card = build_model_card(metrics, description, results, model_dir, model_id=str(model_dir))
        card.save(model_dir / "README.md")
    plot_run_curves(run.summaries, run.output_dir)
    comparison = comparison_markdown(results)
    write_results(results, run.output_dir, comparison)
    print(comparison)
    if run.push:
        publish_run(run.output_dir, models=[m["name"] for m in run.summaries], **run.push)
    logger.info("Best model on test %s: %s. Results in %s", run.primary_metric, results["best_model"], run.output_dir)


def run_training_script(task: str, arguments: list[str], output_dir: Path, what: str) -> None:
    """``train_<task>.py`` in its own process (a fresh process per run, as a user would start it),
    writing ``output_dir`` from scratch; a failure names the run and keeps earlier finished runs."""
    script = Path(__file__).resolve().parent / f"train_{task}.py"
    command = [sys.executable, str(script), *arguments, "--output_dir", str(output_dir), "--overwrite_output_dir"]
    print("$", " ".join(command), flush=True)
    if subprocess.run(command).returncode != 0:
        raise UserError(f"{what} failed (its message is above); fix it and rerun: finished runs are kept.")
