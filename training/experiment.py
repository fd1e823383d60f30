"""Train, evaluate and save one model with ``transformers.Trainer``: the loop every pipeline shares.

Writes ``OUTPUT_DIR/<model>/``: the checkpoint (``save_pretrained``), ``metrics.json``,
``confusion_matrix.png``, ``learning_curves.png`` and ``predictions.csv``. ``metrics.json`` is
written last, so its presence marks a finished model (used by ``--resume_from_checkpoint``).
"""

import csv
import dataclasses
import json
import logging
import os
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset, DatasetDict
from scipy.special import softmax
from transformers import EarlyStoppingCallback, Trainer, TrainingArguments, pipeline
from transformers.trainer_utils import get_last_checkpoint

from training.metrics import classification_metrics, trainer_compute_metrics
from training.plots import plot_confusion_matrix, plot_learning_curves
from training.results import write_json

logger = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"


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
    "lr_scheduler_type", "optim", "seed",
)  # fmt: skip


def training_device(args: TrainingArguments) -> str:
    """Where training ran, for cards and reports: the GPU's name, or the CPU with its thread count."""
    if args.device.type == "cuda":
        return f"{torch.cuda.get_device_name(args.device)} x {args.n_gpu or 1}"
    return f"{args.device.type.upper()} ({torch.get_num_threads()} threads)"


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
    classifier = pipeline(inputs.task, model=model.to("cpu"), device="cpu", **{inputs.processor_argument: processor})
    classifier(inputs.latency_inputs[0], **inputs.pipeline_kwargs)  # warm-up
    timings = []
    for example in inputs.latency_inputs:
        start = time.perf_counter()
        classifier(example, **inputs.pipeline_kwargs)
        timings.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(timings), 3)


def _predict(trainer: Trainer, dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    output = trainer.predict(dataset)
    logits = output.predictions[0] if isinstance(output.predictions, tuple) else output.predictions
    return softmax(logits, axis=1), output.label_ids


def _write_predictions(path: Path, display: list[str], labels: np.ndarray, probs: np.ndarray, names: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "input", "label", "predicted", "confidence", "correct"])
        for i, (text, label, row) in enumerate(zip(display, labels, probs, strict=True)):
            predicted = int(row.argmax())
            writer.writerow([i, text, names[label], names[predicted], f"{row[predicted]:.6f}", predicted == label])


def train_and_evaluate(
    run: ModelRun,
    encoded: DatasetDict,
    collator: Any,
    training_args: TrainingArguments,
    *,
    label_names: list[str],
    primary_metric: str,
    early_stopping_patience: int | None,
    output_dir: Path,
    inputs: EvaluationInputs,
    model_hyperparameters: dict[str, Any],
    resume: bool,
    train_dataset: Dataset | None = None,
) -> dict[str, Any]:
    """Train ``run.model`` on ``encoded['train']``, keep its best validation epoch, evaluate every split,
    save it under ``output_dir/run.name`` and return its ``metrics.json`` content.

    ``model_hyperparameters`` are the modality's own settings to record beside the Trainer's
    (e.g. ``max_seq_length``). ``train_dataset`` is what training sees when it differs from the
    ``encoded['train']`` that is evaluated (augmented images)."""
    model_dir = output_dir / run.name
    checkpoints = model_dir / CHECKPOINTS
    # push_to_hub off: Trainer would push every checkpoint to one repo; the run pushes each model at the end.
    args = dataclasses.replace(training_args, output_dir=str(checkpoints), push_to_hub=False)
    if training_args.metric_for_best_model in (None, "loss", "eval_loss"):
        args = dataclasses.replace(args, metric_for_best_model=primary_metric, greater_is_better=True)
    callbacks = [EarlyStoppingCallback(early_stopping_patience)] if early_stopping_patience else []
    trainer = Trainer(
        model=run.model,
        args=args,
        train_dataset=encoded["train"] if train_dataset is None else train_dataset,
        eval_dataset=encoded["validation"],
        data_collator=collator,
        processing_class=run.processor,
        compute_metrics=trainer_compute_metrics(label_names),
        callbacks=callbacks,
    )
    last_checkpoint = get_last_checkpoint(str(checkpoints)) if resume and checkpoints.is_dir() else None
    if last_checkpoint:
        logger.info("Resuming %s from %s", run.name, last_checkpoint)
    train_output = trainer.train(resume_from_checkpoint=last_checkpoint)

    split_metrics, test_probs, test_labels = {}, None, None
    for split in ("train", "validation", "test"):
        probs, labels = _predict(trainer, encoded[split])
        split_metrics[split] = classification_metrics(labels, probs, label_names)
        if split == "test":
            test_probs, test_labels = probs, labels

    if not trainer.is_world_process_zero():
        return {}
    trainer.save_model(str(model_dir))
    # A pickle of every TrainingArguments field, --hub_token included: the hyperparameters that
    # matter are in metrics.json instead, and nothing pickled should be published.
    (model_dir / "training_args.bin").unlink(missing_ok=True)
    shutil.rmtree(checkpoints, ignore_errors=True)
    model = trainer.model.eval()
    metrics = {
        "name": run.name,
        "kind": run.kind,
        "architecture": run.architecture,
        "model_class": type(model).__name__,
        "num_parameters": int(model.num_parameters()),
        "num_trainable_parameters": int(model.num_parameters(only_trainable=True)),
        **run.details,
        "hyperparameters": {
            **{k: getattr(v, "value", v) for k in RECORDED_HYPERPARAMETERS for v in [getattr(args, k)]},
            **model_hyperparameters,
            "early_stopping_patience": early_stopping_patience,
        },
        "training_device": training_device(args),
        "train_runtime_s": round(float(train_output.metrics["train_runtime"]), 2),
        "train_samples_per_second": round(float(train_output.metrics["train_samples_per_second"]), 2),
        "epochs_trained": round(float(trainer.state.epoch or 0), 2),
        "best_epoch_checkpoint_metric": trainer.state.best_metric,
        "inference_ms_per_sample": measure_latency_ms(model, run.processor, inputs),
        "inference_device": "cpu",
        "history": epoch_history(trainer.state.log_history),
        **split_metrics,
    }
    _write_predictions(model_dir / "predictions.csv", inputs.test_display, test_labels, test_probs, label_names)
    plot_confusion_matrix(
        split_metrics["test"]["confusion_matrix"],
        label_names,
        f"{run.name}: test confusion matrix",
        model_dir / "confusion_matrix.png",
    )
    plot_learning_curves(
        metrics["history"], primary_metric, f"{run.name}: learning curves", model_dir / "learning_curves.png"
    )
    write_json(metrics, model_dir / "metrics.json")
    return metrics


def load_finished(output_dir: Path, name: str) -> dict[str, Any] | None:
    """The metrics of a model finished by an earlier, interrupted run, if any."""
    path = output_dir / name / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
