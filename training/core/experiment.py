"""Train, evaluate and save one model with ``transformers.Trainer``: the loop every pipeline shares.

Writes ``OUTPUT_DIR/<model>/``: the checkpoint (``save_pretrained``), ``metrics.json``,
``confusion_matrix.png``, ``learning_curves.png`` and ``predictions.csv``. ``metrics.json`` is
written last, so its presence marks a finished model (used by ``--resume_from_checkpoint``).
"""

import csv
import dataclasses
import hashlib
import json
import logging
import math
import os
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate.utils import gather_object
from datasets import Dataset, DatasetDict
from scipy.special import softmax
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from transformers import EarlyStoppingCallback, Trainer, TrainerCallback, TrainingArguments, pipeline
from transformers.trainer_utils import TrainOutput, get_last_checkpoint

from training.core.analysis import analyse_errors, plot_curves_of
from training.core.data import SPLITS, subsample
from training.core.errors import UserError
from training.core.metrics import (
    best_threshold,
    calibration,
    classification_metrics,
    curves,
    thresholded_predictions,
    trainer_compute_metrics,
)
from training.core.plots import plot_confusion_matrix, plot_learning_curves
from training.core.results import write_json

logger = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
PROBABILITIES = "probabilities.npz"


@dataclass
class ModelRun:
    """One model of a lineup, ready to train. Builders fill the model; the script names it from the lineup."""

    architecture: str
    model: Any
    processor: Any  # tokenizer or image processor, saved with the model
    details: dict[str, Any] = field(default_factory=dict)  # base_model, embedding coverage, ...
    name: str = ""
    kind: str = ""  # "scratch" or "pretrained", from the lineup entry


@dataclass
class EvaluationInputs:
    """What the modality supplies for evaluation beyond the encoded splits."""

    task: str  # pipeline task, e.g. "text-classification"
    processor_argument: str  # "tokenizer" or "image_processor" for pipeline(...)
    latency_inputs: list[Any]  # raw test inputs timed one at a time
    test_display: list[str]  # one readable string per test example, for predictions.csv
    pipeline_kwargs: dict[str, Any] = field(default_factory=dict)
    test_example: Callable[[int], Any] | None = None  # the raw test input i (a text, an image): top losses
    top_losses: int = 0  # how many of the most confident test mistakes to explain (--top_losses)


def use_all_cpu_cores() -> None:
    """Give PyTorch every available core in a single-process run without a GPU.

    ``accelerate launch`` exports OMP_NUM_THREADS=1 unless given ``--cpu`` or
    ``--num_cpu_threads_per_process``, which halves training speed on a 2-core machine (measured:
    2.0 vs 1.3 s per MiniLM step). Several processes on one machine keep accelerate's split.
    """
    if torch.cuda.is_available() or int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1"))) > 1:
        return
    cores = len(os.sched_getaffinity(0))
    if torch.get_num_threads() < cores:
        logger.info("Using %d CPU threads (was %d).", cores, torch.get_num_threads())
        torch.set_num_threads(cores)


# TrainingArguments recorded in metrics.json (enums as their string values).
RECORDED_HYPERPARAMETERS = (
    "learning_rate", "num_train_epochs", "per_device_train_batch_size", "weight_decay", "warmup_steps",
    "lr_scheduler_type", "optim", "seed", "metric_for_best_model",
)  # fmt: skip


def training_device(args: TrainingArguments) -> str:
    """Where training ran, for cards and reports: the GPU's name and count, or the CPU with its thread
    count; and the number of processes under DDP."""
    processes = f", {args.world_size} processes (DDP)" if args.world_size > 1 else ""
    if args.device.type == "cuda":
        return f"{torch.cuda.get_device_name(args.device)} x {max(args.n_gpu, 1) * args.world_size}{processes}"
    return f"{args.device.type.upper()} ({torch.get_num_threads()} threads{' each' if processes else ''}{processes})"


def built_fingerprint(prepared: "PreparedModel") -> str:
    """A digest of everything a process built from the data for one model: split sizes and labels in
    order, the processor (a learnt vocabulary), the weights' names, shapes and sums."""
    digest = hashlib.sha256()
    for name, split in prepared.encoded.items():
        digest.update(f"{name}:{len(split)}:".encode() + np.asarray(split.with_format(None)["label"][:]).tobytes())
    processor = prepared.run.processor
    tokenizer = getattr(processor, "backend_tokenizer", None)
    digest.update((tokenizer.to_str() if tokenizer is not None else processor.to_json_string()).encode())
    for key, tensor in prepared.run.model.state_dict().items():
        digest.update(f"{key}{tuple(tensor.shape)}{float(tensor.double().sum()):.10g}".encode())
    return digest.hexdigest()


def check_same_on_every_rank(prepared: "PreparedModel") -> None:
    """Under several processes, stop unless every rank built the same splits, processor and initial
    weights: DDP would train one model on inconsistent inputs, or crash on a vocabulary size."""
    if prepared.training_args.world_size <= 1:
        return
    fingerprints = gather_object([built_fingerprint(prepared)])
    if len(set(fingerprints)) > 1:
        raise RuntimeError(
            f"the {len(fingerprints)} processes built {prepared.run.name} differently (splits, processor or initial "
            "weights): something built from the data is not deterministic. Please report this as a bug."
        )


def epoch_history(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-epoch train loss, validation loss and validation metrics from ``Trainer.state.log_history``."""
    epochs: dict[float, dict[str, Any]] = {}
    for entry in log_history:
        if "epoch" not in entry:
            continue
        row = epochs.setdefault(round(entry["epoch"], 2), {"epoch": round(entry["epoch"], 2)})
        if "loss" in entry:
            row["train_loss"] = entry["loss"]
        for key, value in entry.items():
            if key.startswith("eval_") and not key.endswith(("runtime", "per_second", "steps_per_second")):
                row["validation_" + key[len("eval_") :]] = value
    return [row for _, row in sorted(epochs.items()) if len(row) > 1]


def measure_latency_ms(model: Any, processor: Any, inputs: EvaluationInputs) -> float | None:
    """Median milliseconds per example through ``pipeline`` at batch size 1 on the CPU."""
    if not inputs.latency_inputs:
        return None
    if isinstance(model, str):  # a folder (the ensemble): its own pipeline, whatever code it ships
        classifier = pipeline(inputs.task, model=model, device="cpu", trust_remote_code=True)
    else:
        processor_kwargs = {inputs.processor_argument: processor}
        classifier = pipeline(inputs.task, model=model.to("cpu"), device="cpu", **processor_kwargs)
    classifier(inputs.latency_inputs[0], **inputs.pipeline_kwargs)  # warm-up
    timings = []
    for example in inputs.latency_inputs:
        start = time.perf_counter()
        classifier(example, **inputs.pipeline_kwargs)
        timings.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(timings), 3)


def _predict(trainer: Trainer, dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and labels of every example of ``dataset``, once each and in its order (also
    under several processes, where Trainer gathers the shards and drops the sampler's padding: checked)."""
    # With train_sampling_strategy group_by_length (the text script's GPU default) Trainer also draws prediction
    # batches with its shuffled length-grouped sampler, so predictions would come back out of order.
    strategy = trainer.args.train_sampling_strategy
    trainer.args.train_sampling_strategy = "random"  # random applies to training only: prediction is sequential
    try:
        output = trainer.predict(dataset)
    finally:
        trainer.args.train_sampling_strategy = strategy
    logits = output.predictions[0] if isinstance(output.predictions, tuple) else output.predictions
    expected = np.asarray(dataset.with_format(None)["label"][:])
    if not np.array_equal(output.label_ids, expected):
        raise RuntimeError(
            f"prediction returned {len(output.label_ids)} labels for {len(expected)} examples, or not in their order"
        )
    return softmax(logits, axis=1), output.label_ids


def _write_predictions(path: Path, display: list[str], labels: np.ndarray, probs: np.ndarray, names: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "input", "label", "predicted", "confidence", "correct"])
        for i, (text, label, row) in enumerate(zip(display, labels, probs, strict=True)):
            predicted = int(row.argmax())
            writer.writerow([i, text, names[label], names[predicted], f"{row[predicted]:.6f}", predicted == label])


@dataclass
class PreparedModel:
    """One lineup model ready for Trainer: the model and its processor, the splits encoded for it, and
    the settings it trains with (its per-model defaults applied). Scripts build it with their
    ``prepare``; training, cross-validation, repeated seeds and sweeps all start from it."""

    run: ModelRun
    encoded: DatasetDict  # train / validation / test, as model inputs
    collator: Any
    training_args: TrainingArguments
    early_stopping_patience: int | None
    model_hyperparameters: dict[str, Any]  # the modality's own settings to record (max_seq_length, ...)
    train_dataset: Dataset | None = None  # what training sees when it differs from encoded["train"] (augmentation)
    trainer_class: type[Trainer] | None = None  # ClosedFormTrainer for a model fitted without gradient steps


class ClosedFormTrainer(Trainer):
    """The Trainer of a model fitted in closed form by its ``fit`` (MiniRocket's ridge: no gradient steps, no
    epochs), so that it is evaluated, saved, cross-validated and repeated over seeds by the same code as the
    others. ``fit`` gets the training inputs and labels, the seed and the validation inputs and labels;
    ``fitted_hyperparameters()`` says what it chose (recorded instead of the Trainer's unused settings)."""

    def train(self, resume_from_checkpoint: Any = None, **kwargs: Any) -> TrainOutput:
        def arrays(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
            rows = dataset.with_format("numpy")
            return np.asarray(rows[self.model.main_input_name]), np.asarray(rows["label"])

        start = time.perf_counter()
        self.model.fit(*arrays(self.train_dataset), seed=self.args.seed, validation=arrays(self.eval_dataset))
        seconds = time.perf_counter() - start
        rate = len(self.train_dataset) / max(seconds, 1e-9)
        return TrainOutput(0, 0.0, {"train_runtime": seconds, "train_samples_per_second": rate})


# A script's ``prepare``: the model built and the given splits encoded for it, with this seed.
Prepare = Callable[[DatasetDict, int], PreparedModel]


def build_trainer(
    prepared: PreparedModel,
    *,
    label_names: list[str],
    primary_metric: str,
    checkpoints: Path,
    model_init: Callable[..., Any] | None = None,
    trainer_class: type[Trainer] | None = None,
    callbacks: list[TrainerCallback] | None = None,
) -> Trainer:
    """The Trainer every run uses: evaluation on the validation split each epoch, the best epoch by the
    primary metric (or the validation loss, with ``--metric_for_best_model eval_loss``), early stopping when the
    model asks for it. With ``model_init`` (sweeps) the model is
    rebuilt for every trial."""
    # push_to_hub off: Trainer would push every checkpoint to one repo; the run pushes each model at the end.
    args = dataclasses.replace(prepared.training_args, output_dir=str(checkpoints), push_to_hub=False)
    if args.metric_for_best_model in (None, "loss"):  # Trainer's own default: ours is the primary metric
        args = dataclasses.replace(args, metric_for_best_model=primary_metric, greater_is_better=True)
    elif args.metric_for_best_model == "eval_loss":  # asked for: the lowest validation loss (tiny validation splits)
        args = dataclasses.replace(args, greater_is_better=False)
    patience = prepared.early_stopping_patience
    trainer_class = trainer_class or prepared.trainer_class or Trainer
    return trainer_class(
        model=None if model_init else prepared.run.model,
        model_init=model_init,
        args=args,
        train_dataset=prepared.encoded["train"] if prepared.train_dataset is None else prepared.train_dataset,
        eval_dataset=prepared.encoded["validation"],
        data_collator=prepared.collator,
        processing_class=prepared.run.processor,
        compute_metrics=trainer_compute_metrics(label_names),
        callbacks=([EarlyStoppingCallback(patience)] if patience else []) + (callbacks or []),
    )


def train_and_evaluate(
    prepared: PreparedModel,
    *,
    label_names: list[str],
    primary_metric: str,
    output_dir: Path,
    inputs: EvaluationInputs,
    resume: bool,
    more_measurements: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    train_eval_samples: int = 0,
) -> dict[str, Any]:
    """Train the prepared model on its train split, keep its best validation epoch, evaluate every split,
    save it under ``output_dir/<name>`` and return its ``metrics.json`` content.

    The train split is scored on a fixed stratified sample of ``train_eval_samples`` examples when it holds more
    (0: all), recorded as ``train_evaluation``. ``more_measurements`` (cross-validation, other seeds) gets the
    metrics and returns what to add to them; it runs before ``metrics.json`` is written, so an interrupted run
    redoes it."""
    run = prepared.run
    model_dir = output_dir / run.name
    checkpoints = model_dir / CHECKPOINTS
    trainer = build_trainer(prepared, label_names=label_names, primary_metric=primary_metric, checkpoints=checkpoints)
    last_checkpoint = get_last_checkpoint(str(checkpoints)) if resume and checkpoints.is_dir() else None
    if last_checkpoint:
        logger.info("Resuming %s from %s", run.name, last_checkpoint)
    train_output = trainer.train(resume_from_checkpoint=last_checkpoint)

    # Every process predicts its share of each split (Trainer gathers them); only the main one writes. The same
    # seed draws the same train sample for every model of the run, so the ensemble can weigh them on it.
    train_split = prepared.encoded["train"]
    scored = {"train": subsample(train_split, train_eval_samples or None, prepared.training_args.seed)}
    predictions = {split: _predict(trainer, scored.get(split, prepared.encoded[split])) for split in SPLITS}
    metrics = {}
    if trainer.is_world_process_zero():
        metrics = _save_model(trainer, prepared, train_output, predictions, label_names, primary_metric, inputs)
        if len(scored["train"]) < len(train_split):
            metrics["train_evaluation"] = {"sample": len(scored["train"]), "of": len(train_split), "stratified": True}
        if more_measurements:
            metrics.update(more_measurements(metrics))
        write_json(metrics, model_dir / "metrics.json")
    trainer.accelerator.wait_for_everyone()  # the others wait for its files before the next model
    return metrics


def _save_model(
    trainer: Trainer, prepared: "PreparedModel", train_output: Any, predictions: dict[str, tuple[np.ndarray, Any]],
    label_names: list[str], primary_metric: str, inputs: EvaluationInputs,
) -> dict[str, Any]:  # fmt: skip
    """The main process's part of ``train_and_evaluate``: the model, its predictions and figures saved,
    and its metrics (``metrics.json`` is written by the caller, last)."""
    run, args = prepared.run, trainer.args
    model_dir = Path(args.output_dir).parent  # Trainer's output_dir: the model's checkpoints folder
    split_metrics = score_predictions(predictions, label_names)
    test_probs, test_labels = predictions["test"]
    threshold = decision_threshold(predictions, split_metrics, label_names, primary_metric)
    if threshold:  # ships with the checkpoint: config.decision_threshold
        trainer.model.config.decision_threshold = threshold["threshold"]
    trainer.save_model(str(model_dir))
    # A pickle of every TrainingArguments field, --hub_token included: the hyperparameters that
    # matter are in metrics.json instead, and nothing pickled should be published.
    (model_dir / "training_args.bin").unlink(missing_ok=True)
    shutil.rmtree(args.output_dir, ignore_errors=True)  # the epoch checkpoints
    model = trainer.model.eval()
    metrics = {
        "name": run.name,
        "kind": run.kind,
        "architecture": run.architecture,
        "model_class": type(model).__name__,
        "num_parameters": int(model.num_parameters()),
        "num_trainable_parameters": int(model.num_parameters(only_trainable=True)),
        **run.details,
        "hyperparameters": _hyperparameters(trainer, prepared),
        "training_device": training_device(args),
        "world_size": args.world_size,  # processes; the speed and loss figures are over all of them
        "train_runtime_s": round(float(train_output.metrics["train_runtime"]), 2),
        "train_samples_per_second": round(float(train_output.metrics["train_samples_per_second"]), 2),
        "epochs_trained": round(float(trainer.state.epoch or 0), 2),
        "best_epoch_checkpoint_metric": trainer.state.best_metric,
        "inference_ms_per_sample": measure_latency_ms(model, run.processor, inputs),
        "inference_device": "cpu",
        "history": epoch_history(trainer.state.log_history),
        **split_metrics,
        **({"decision_threshold": threshold} if threshold else {}),
    }
    if inputs.test_example is not None and inputs.top_losses > 0:
        metrics["top_losses"] = analyse_errors(
            model, run.processor, test_probs, test_labels, label_names, inputs.test_example, inputs.test_display,
            inputs.top_losses, model_dir,
        )  # fmt: skip
    write_evaluation(metrics, predictions, label_names, inputs, model_dir)
    if metrics["history"]:  # a model fitted in closed form has no epochs
        plot_learning_curves(
            metrics["history"], primary_metric, f"{run.name}: learning curves", model_dir / "learning_curves.png"
        )
    return metrics


def _hyperparameters(trainer: Trainer, prepared: PreparedModel) -> dict[str, Any]:
    """What the model was trained with: the Trainer's settings, or for a model fitted in closed form (no
    optimiser, no epochs) the seed and its own fitted settings (``model.fitted_hyperparameters()``)."""
    args = trainer.args
    if isinstance(trainer, ClosedFormTrainer):
        return {"seed": args.seed, **trainer.model.fitted_hyperparameters(), **prepared.model_hyperparameters}
    return {
        **{k: getattr(v, "value", v) for k in RECORDED_HYPERPARAMETERS for v in [getattr(args, k)]},
        **prepared.model_hyperparameters,
        "early_stopping_patience": prepared.early_stopping_patience,
    }


def score_predictions(
    predictions: dict[str, tuple[np.ndarray, np.ndarray]], label_names: list[str]
) -> dict[str, dict[str, Any]]:
    """Each split's metrics from its (probabilities, labels); the test split's also with its curve points and
    calibration bins (the run's ROC, PR and reliability figures)."""
    scores = {split: classification_metrics(y, probs, label_names) for split, (probs, y) in predictions.items()}
    test_probs, test_labels = predictions["test"]
    scores["test"]["curves"] = curves(test_labels, test_probs, label_names)
    scores["test"]["calibration"] = calibration(test_labels, test_probs)
    return scores


def decision_threshold(
    predictions: dict[str, tuple[np.ndarray, np.ndarray]], scores: dict[str, dict[str, Any]], label_names: list[str],
    primary_metric: str,
) -> dict[str, Any] | None:  # fmt: skip
    """For a binary task ranked by ``f1_positive``: the threshold on the positive class's probability chosen on the
    validation split (``best_threshold``), with F1 of the positive class on validation and test at the argmax
    (``scores``, the metrics everyone compares) and at the threshold. None otherwise."""
    if primary_metric != "f1_positive" or len(label_names) != 2:
        return None
    validation_probs, validation_labels = predictions["validation"]
    threshold = best_threshold(validation_probs[:, 1], validation_labels)
    record: dict[str, Any] = {
        "threshold": threshold, "positive_class": label_names[1], "chosen_on": "validation", "metric": primary_metric,
    }  # fmt: skip
    for split in ("validation", "test"):
        probs, labels = predictions[split]
        predicted = thresholded_predictions(probs, threshold)
        record[split] = {
            "at_argmax": scores[split]["f1_positive"],
            "at_threshold": float(f1_score(np.asarray(labels) == 1, predicted == 1, zero_division=0)),
        }
    return record


def write_evaluation(
    metrics: dict[str, Any], predictions: dict[str, tuple[np.ndarray, np.ndarray]], label_names: list[str],
    inputs: EvaluationInputs, model_dir: Path,
) -> None:  # fmt: skip
    """A model's evaluation files: ``curves.png``, ``confusion_matrix.png``, ``predictions.csv`` (test) and
    ``probabilities.npz`` (every split's class probabilities, which the run's ensemble weighs)."""
    plot_curves_of(metrics, model_dir)
    arrays = {f"{split}_probs": probs for split, (probs, _) in predictions.items()}
    np.savez_compressed(model_dir / PROBABILITIES, **arrays, **{f"{s}_labels": y for s, (_, y) in predictions.items()})
    test_probs, test_labels = predictions["test"]
    _write_predictions(model_dir / "predictions.csv", inputs.test_display, test_labels, test_probs, label_names)
    title = f"{metrics['name']}: test confusion matrix"
    plot_confusion_matrix(metrics["test"]["confusion_matrix"], label_names, title, model_dir / "confusion_matrix.png")


def score_summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean, sample standard deviation and the values of every scalar metric over repeated runs."""
    summary = {}
    for key, first in runs[0].items():
        if key == "num_examples" or isinstance(first, bool) or not isinstance(first, int | float):
            continue
        values = [float(run[key]) for run in runs]
        if any(math.isnan(v) for v in values):
            continue
        summary[key] = {
            "mean": round(statistics.fmean(values), 6),
            "std": round(statistics.stdev(values), 6) if len(values) > 1 else 0.0,
            "values": [round(v, 6) for v in values],
        }
    return summary


def _fit_and_score(
    prepared: PreparedModel, splits: tuple[str, ...], checkpoints: Path, label_names: list[str], primary_metric: str
) -> tuple[dict[str, dict[str, Any]], float]:
    """Train a throwaway model (nothing saved) and score it on ``splits``; also its training seconds."""
    trainer = build_trainer(prepared, label_names=label_names, primary_metric=primary_metric, checkpoints=checkpoints)
    try:
        runtime = float(trainer.train().metrics["train_runtime"])
        scores = {}
        for split in splits:
            probs, labels = _predict(trainer, prepared.encoded[split])
            scores[split] = classification_metrics(labels, probs, label_names)
        return scores, runtime
    finally:
        shutil.rmtree(checkpoints, ignore_errors=True)


def check_folds(labels: Any, folds: int) -> None:
    """Stratified K-fold needs K training examples of every class."""
    smallest = int(np.bincount(np.asarray(labels)).min()) if len(labels) else 0
    if smallest < folds:
        raise UserError(
            f"--cv_folds {folds} needs at least {folds} training examples of every class; the smallest class has "
            f"{smallest}. Use fewer folds (or more data)."
        )


def cross_validate(
    prepare: Prepare,
    splits: DatasetDict,
    *,
    folds: int,
    seed: int,
    label_names: list[str],
    primary_metric: str,
    work_dir: Path,
) -> dict[str, Any]:
    """Stratified K-fold on the training split: each fold's model is built and trained on the other
    K-1 folds and scored on the held-out fold. The validation split still picks the best epoch and
    stops training, so the held-out fold's score is never used for a choice (no selection bias).
    ``check_folds`` first: ``workflow.train_model`` runs it before any training."""
    labels = np.asarray(splits["train"]["label"][:])
    kfold = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores, runtimes, sizes = [], [], []
    for k, (train_idx, held_idx) in enumerate(kfold.split(np.zeros(len(labels)), labels), start=1):
        fold = DatasetDict(
            train=splits["train"].select(train_idx),
            validation=splits["validation"],
            test=splits["train"].select(held_idx),
        )
        prepared = prepare(fold, seed)
        logger.info("Cross-validation of %s: fold %d/%d (%d held out)", prepared.run.name, k, folds, len(held_idx))
        fold_scores, runtime = _fit_and_score(prepared, ("test",), work_dir / f"fold-{k}", label_names, primary_metric)
        scores.append(fold_scores["test"])
        runtimes.append(runtime)
        sizes.append(len(held_idx))
    return {
        "folds": folds,
        "seed": seed,
        "held_out_examples": sizes,
        "train_runtime_s": score_summary([{"t": t} for t in runtimes])["t"],
        "metrics": score_summary(scores),
    }


def repeat_with_seeds(
    prepare: Prepare,
    splits: DatasetDict,
    *,
    first: dict[str, Any],
    seeds: list[int],
    label_names: list[str],
    primary_metric: str,
    work_dir: Path,
) -> dict[str, Any]:
    """The model trained again with each of ``seeds[1:]`` (initialisation, data order, dropout), scored on
    validation and test; ``first`` is the saved model's metrics, trained with ``seeds[0]``."""
    validation, test = [first["validation"]], [first["test"]]
    for seed in seeds[1:]:
        prepared = prepare(splits, seed)
        logger.info("Repeating %s with seed %d", prepared.run.name, seed)
        scores, _ = _fit_and_score(
            prepared, ("validation", "test"), work_dir / f"seed-{seed}", label_names, primary_metric
        )
        validation.append(scores["validation"])
        test.append(scores["test"])
    return {"seeds": seeds, "validation": score_summary(validation), "test": score_summary(test)}


def load_finished(output_dir: Path, name: str) -> dict[str, Any] | None:
    """The metrics of a model finished by an earlier, interrupted run, if any."""
    path = output_dir / name / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
