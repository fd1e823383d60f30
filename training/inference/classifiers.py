"""A trained model as ``predict`` uses it: loaded once through ``pipeline`` (a model folder, a Hub id, or each model
of a run), then run on whole batches of raw inputs (texts, images, series) in inference mode, returning every
class's probability. The pipeline's own tokenizer, image processor or feature extractor prepares each batch, so
the probabilities are the pipeline's; only the batching differs (texts sorted by length, one padded batch at a
time). The ensemble is the weighted sum of its members, each batched the same way.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.core.errors import UserError
from training.core.metrics import thresholded_predictions
from training.core.tasks import TASKS

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.json"
DESCRIPTION_FILE = "dataset.json"
# transformers' class-name conventions, and the custom pipelines our time-series models and the ensemble register.
TASK_SUFFIXES = {"ForSequenceClassification": "text-classification", "ForImageClassification": "image-classification"}


@dataclass
class Classifier:
    """One model, ready to classify batches: ``probabilities(inputs)`` is (len(inputs), classes) in input order."""

    name: str
    source: str
    task: str  # pipeline task
    label_names: list[str]  # the model's classes, by index (config.id2label)
    label_values: list[str]  # the classes as the training data spelled them (before --class_names)
    input_columns: list[str]  # text: the column(s) read at training, several joined by core/fields.py; else []
    decision_threshold: float | None  # binary: P(positive) from which the positive class is predicted
    probabilities: Callable[[list[Any]], np.ndarray] = field(repr=False)
    channels: int | None = None  # time series: the channels each series needs

    def predicted(self, probabilities: np.ndarray) -> np.ndarray:
        """Each row's class index: the threshold's where the model has one, else the most probable class."""
        return thresholded_predictions(probabilities, self.decision_threshold)


def is_path(source: str) -> bool:
    """A source written as a path (starts with ., / or ~, or exists): never taken for a Hub repo id."""
    return source.startswith((".", "/", "~")) or Path(source).expanduser().exists()


def detect_task(config: Any) -> str | None:
    """The pipeline task of a checkpoint's config: an ensemble's own, a registered custom pipeline's (time series),
    else by the model class's name (``...ForSequenceClassification``: text; ``...ForImageClassification``: image)."""
    if getattr(config, "task", None) in TASKS:
        return config.task
    custom = [task for task in getattr(config, "custom_pipelines", None) or {} if task in TASKS]
    if custom:
        return custom[0]
    for architecture in getattr(config, "architectures", None) or []:
        for suffix, task in TASK_SUFFIXES.items():
            if architecture.endswith(suffix):
                return task
    return None


def _load_config(source: str) -> Any:
    from transformers import AutoConfig

    local = Path(source).expanduser()
    if is_path(source):
        if not local.is_dir():
            raise UserError(f"{source} is not a model folder: give a model folder of a run, a run folder (--run) "
                            "or a Hub model id.")  # fmt: skip
        if not (local / "config.json").is_file():
            raise UserError(
                f"{source} has no config.json, so it is not a saved model. Give a model folder of a run (such as "
                "outputs/text/glove-lstm), a run folder with --run, or a Hub model id."
            )
    try:
        return AutoConfig.from_pretrained(str(local) if is_path(source) else source, trust_remote_code=True)
    except Exception as error:  # missing repo, no network, unknown model type: one message for the user
        where = "folder" if is_path(source) else "Hub model id"
        raise UserError(
            f"could not load the model config of {where} {source!r} ({type(error).__name__}: "
            f"{str(error).strip().splitlines()[0] if str(error).strip() else ''}). Check the path or id (and your "
            "connection, for a Hub id)."
        ) from None


def _batched(pipe: Any, task: str, batch_size: int) -> Callable[[list[Any]], np.ndarray]:
    """``inputs -> probabilities`` with ``pipe``'s model and processor, ``batch_size`` inputs a forward pass."""
    model = pipe.model.eval()

    def forward(encoded: Any) -> np.ndarray:
        with torch.inference_mode():
            logits = model(**encoded.to(model.device)).logits
        return logits.float().softmax(-1).cpu().numpy()

    if task == "text-classification":
        tokenizer = pipe.tokenizer

        def texts(inputs: list[str]) -> np.ndarray:
            # One tokenization for the chunk, then batches of similar lengths: little padding, same answers.
            encoded = tokenizer(list(inputs), truncation=True)
            order = np.argsort([len(ids) for ids in encoded["input_ids"]], kind="stable")
            result = np.zeros((len(inputs), model.config.num_labels), dtype=np.float32)
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = [{key: values[i] for key, values in encoded.items()} for i in rows]
                result[rows] = forward(tokenizer.pad(batch, return_tensors="pt"))
            return result

        return texts
    processor = pipe.image_processor if task == "image-classification" else pipe.feature_extractor
    argument = "images" if task == "image-classification" else "series"

    def others(inputs: list[Any]) -> np.ndarray:
        parts = [forward(processor(**{argument: list(inputs[start : start + batch_size])}, return_tensors="pt"))
                 for start in range(0, len(inputs), batch_size)]  # fmt: skip
        return np.concatenate(parts) if parts else np.zeros((0, model.config.num_labels), dtype=np.float32)

    return others


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_classifier(source: str, name: str | None = None, batch_size: int = 64, task: str | None = None) -> Classifier:
    """The model at ``source`` (a folder or a Hub id), loaded through its pipeline; ``task`` when already known
    (a run's). A folder without a model, a Hub id that cannot be loaded or a config that is no classifier:
    ``UserError``."""
    from transformers import pipeline

    config = _load_config(source)
    task = task or detect_task(config)
    if task is None or not getattr(config, "id2label", None):
        raise UserError(
            f"{source} is not a classification model this lab can predict with (its config names "
            f"{', '.join(getattr(config, 'architectures', None) or ['no architecture'])}). Give a model trained by "
            "train_text.py, train_image.py or train_timeseries.py, or its Hub id."
        )
    location = str(Path(source).expanduser()) if is_path(source) else source
    try:
        pipe = pipeline(task, model=location, trust_remote_code=True, device=_device())
    except Exception as error:  # a broken checkpoint or a member that cannot be found: one message
        raise UserError(
            f"could not load {source} ({type(error).__name__}: {str(error).strip().splitlines()[0]}). Check that "
            "the folder or repo holds a whole checkpoint (for an ensemble: its members beside it)."
        ) from None
    label_names = [config.id2label[i] for i in range(len(config.id2label))]
    members = getattr(pipe, "members", None)
    if members is not None:  # the ensemble: its members' probabilities, weighted
        weights = pipe.model.vote_weights.detach().cpu().numpy().astype(np.float64)
        voters = [_batched(member, task, batch_size) for member in members]
        orders = [_class_order(member.model.config, label_names) for member in members]

        def probabilities(inputs: list[Any]) -> np.ndarray:
            votes = [w * voter(inputs)[:, order] for w, voter, order in zip(weights, voters, orders, strict=True)]
            return np.sum(votes, axis=0).astype(np.float32)

        first = members[0].model.config
    else:
        probabilities, first = _batched(pipe, task, batch_size), config
    threshold = getattr(config, "decision_threshold", None)
    return Classifier(
        name=name or Path(source).name or source, source=source, task=task, label_names=label_names,
        label_values=list(getattr(first, "label_values", None) or label_names),
        input_columns=list(getattr(first, "input_columns", None) or []),
        decision_threshold=None if threshold is None else float(threshold), probabilities=probabilities,
        channels=getattr(getattr(pipe, "feature_extractor", None), "num_channels", None)
        or (getattr(getattr(members[0], "feature_extractor", None), "num_channels", None) if members else None),
    )  # fmt: skip


def _class_order(config: Any, label_names: list[str]) -> list[int]:
    """Where each of the ensemble's classes is among a member's (they were trained on the same classes)."""
    member = [config.id2label[i] for i in range(len(config.id2label))]
    if sorted(member) != sorted(label_names):
        raise UserError(f"an ensemble member's classes ({', '.join(member)}) differ from the ensemble's.")
    return [member.index(name) for name in label_names]


def run_models(run_dir: Path) -> tuple[str, list[str], str, dict[str, Any]]:
    """A run folder's task, its model names in the run's order, its best model and its ``dataset.json``."""
    results_path = run_dir / RESULTS_FILE
    if not results_path.is_file():
        raise UserError(
            f"{run_dir} has no {RESULTS_FILE}: give the --output_dir of a finished training run (or one model's "
            "folder with --model)."
        )
    results = json.loads(results_path.read_text(encoding="utf-8"))
    description_path = run_dir / DESCRIPTION_FILE
    description = json.loads(description_path.read_text(encoding="utf-8")) if description_path.is_file() else {}
    return results["task"], [m["name"] for m in results["models"]], results["best_model"], description


def load_run(
    run_dir: Path, model_name: str | None, batch_size: int, best_only: bool = False
) -> tuple[list[Classifier], dict[str, Any]]:
    """The models of a run (``model_name``: that one; ``best_only``: the run's best), and its ``dataset.json``.
    A model saved before configs carried their input columns takes joined ones from the run's description."""
    task, names, best, description = run_models(run_dir)
    if model_name is not None and model_name not in names:
        raise UserError(f"{run_dir} has no model {model_name!r}: it has {', '.join(names)} (--model_name).")
    chosen = [model_name] if model_name else [best] if best_only else names
    if best_only and not model_name:
        logger.info("Predicting with the run's best model, %s (--model_name picks another).", best)
    classifiers = [load_classifier(str(run_dir / n), n, batch_size, task) for n in chosen]
    for classifier in classifiers:
        classifier.input_columns = classifier.input_columns or list(description.get("input_fields") or [])
    return classifiers, description
