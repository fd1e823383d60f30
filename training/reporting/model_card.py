"""Model cards: ``model_cards/model_card.md`` (Jinja, rendered by ``huggingface_hub.ModelCard.from_template``)
filled from a run's ``dataset.json``, ``results.json`` and the model's ``metrics.json``.

The YAML metadata uses ``ModelCardData`` and ``EvalResult``, so the Hub shows the test results
(``model-index``). Every number in the card comes from the run's JSON; the limitations are
computed from it too (test-set size, weakest class, most confused pair, overfitting).
"""

import math
import re
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from training.core.fields import input_format, split_fields
from training.core.metrics import SCALAR_METRICS
from training.core.results import comparison_rows
from training.core.tasks import TASKS
from training.reporting.insights import decision_threshold, overall_calibration, seconds

TEMPLATE = Path(__file__).resolve().parents[2] / "model_cards" / "model_card.md"
# The test input saved next to each model for the card's snippet to classify (core/tasks.py).
EXAMPLE_IMAGE = TASKS["image-classification"].example_file
EXAMPLE_SERIES = TASKS["time-series-classification"].example_file
# Metrics in the card and the model-index: key in metrics.json -> (Hub metric type, readable name).
CARD_METRICS = {
    "accuracy": ("accuracy", "Accuracy"),
    "precision_macro": ("precision", "Precision (macro)"),
    "recall_macro": ("recall", "Recall (macro)"),
    "f1_macro": ("f1", "F1 (macro)"),
    "f1_weighted": ("f1", "F1 (weighted)"),
    "f1_positive": ("f1", "F1 (positive class)"),
    "roc_auc": ("roc_auc", "ROC-AUC"),
    "average_precision": ("average_precision", "Average precision"),
}
_HUB_ID = re.compile(r"^[\w.-]+(/[\w.-]+)?$")


def _hub_id(name: str | None) -> str | None:
    """``name`` when it can be a Hub repo id (not a local folder, not a description)."""
    return name if name and _HUB_ID.match(name) and not Path(name).exists() else None


def _note_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_note_text(v)}" for k, v in value.items() if k != "files")
    return str(value)


def _repeated(metrics: dict[str, Any], primary: str) -> list[str]:
    """Cross-validation and repeated-seed results of this model, when the run measured them."""
    lines = []
    cv = metrics.get("cross_validation")
    if cv and primary in cv["metrics"]:
        score = cv["metrics"][primary]
        lines.append(
            f"Stratified {cv['folds']}-fold cross-validation on the training split: {primary} "
            f"{score['mean']:.4f} ± {score['std']:.4f} (mean ± std over the held-out folds)."
        )
    seeds = metrics.get("seeds")
    if seeds and primary in seeds["test"]:
        score = seeds["test"][primary]
        lines.append(
            f"Trained with {len(seeds['seeds'])} seeds: test {primary} {score['mean']:.4f} ± {score['std']:.4f} "
            "(this checkpoint is the first seed's)."
        )
    return lines


def _limitations(metrics: dict[str, Any], results: dict[str, Any], description: dict[str, Any]) -> list[str]:
    test = metrics["test"]
    names = results["label_names"]
    items = []
    n = test["num_examples"]
    accuracy = test["accuracy"]
    # Normal-approximation 95% interval: how far the measured accuracy may be from the true one.
    half_width = 1.96 * math.sqrt(max(accuracy * (1 - accuracy), 1e-12) / n)
    items.append(
        f"The test split has {n} examples: the test accuracy {accuracy:.3f} is known to about ±{half_width:.3f} "
        "(95% interval), so smaller differences between models are within noise."
    )
    if results.get("test_is_validation"):
        items.append(
            "No separate test split was given: the scores are measured on the validation split, which also chose "
            "the best epoch, so they are optimistic."
        )
    weakest = min(test["per_class"].items(), key=lambda item: item[1]["f1"])
    matrix = test["confusion_matrix"]
    confusions = [(matrix[i][j], i, j) for i in range(len(names)) for j in range(len(names)) if i != j]
    count, true, predicted = max(confusions) if confusions else (0, 0, 0)
    text = f"Weakest class: {weakest[0]} (test F1 {weakest[1]['f1']:.3f})."
    if count:
        text += f" Most frequent confusion: {names[true]} predicted as {names[predicted]} ({count} test examples)."
    items.append(text)
    note = results["overfitting"][metrics["name"]]
    items.append(f"Train/validation gap of {note['text']}")
    if description["notes"].get("subsampled"):
        items.append(f"Trained on a subsample ({description['notes']['subsampled']}).")
    if "max_seq_length" in metrics["hyperparameters"]:
        items.append(f"Texts are truncated to {metrics['hyperparameters']['max_seq_length']} tokens, as in training.")
    if metrics["kind"] == "scratch":
        items.append("Trained from scratch on this dataset only: expect it to fail on inputs unlike the training data.")
    elif metrics["kind"] == "ensemble":
        items.append("Runs every member for each input: as slow as its members together, and as biased as they are.")
    else:
        items.append("Inherits what its base model learnt in pretraining, biases included; check them for your use.")
    return items


def top_confusions(test: dict[str, Any], label_names: list[str], count: int = 3) -> str:
    """The ``count`` most frequent mistakes of a confusion matrix, as "true -> predicted: n of N (share)"."""
    matrix = test["confusion_matrix"]
    cells = sorted(
        (
            (matrix[t][p], t, p)
            for t in range(len(label_names))
            for p in range(len(label_names))
            if t != p and matrix[t][p]
        ),
        key=lambda cell: (-cell[0], cell[1], cell[2]),
    )[:count]
    return "; ".join(
        f"{label_names[t]} taken for {label_names[p]} {n} of {sum(matrix[t])} times ({n / sum(matrix[t]):.0%})"
        for n, t, p in cells
    )


def curves_text(test: dict[str, Any]) -> str:
    """What the model's curves and calibration say, in two sentences (the figure is ``curves.png``)."""
    curves, calibration = test.get("curves"), test.get("calibration")
    if not curves or not calibration:
        return ""
    scope = (
        f"the positive class ({curves['positive_class']})"
        if curves.get("positive_class")
        else "macro-averaged over the classes (one-vs-rest)"
    )
    ece = calibration["expected_calibration_error"]
    confidence, accuracy = overall_calibration(calibration)
    leaning = "overconfident" if confidence > accuracy else "underconfident" if confidence < accuracy else "calibrated"
    return (
        f"ROC-AUC {curves['roc']['summary']['auc']:.4f} and average precision "
        f"{curves['pr']['summary']['average_precision']:.4f}, {scope}. Expected calibration error "
        f"{ece:.4f} ({len(calibration['bins'])} equal-mass bins of the predicted class's confidence): on the test "
        f"split its mean confidence is {confidence:.3f} for an accuracy of {accuracy:.3f} ({leaning} on average)."
    )


def top_losses_text(metrics: dict[str, Any], model_dir: Path) -> str:
    """The model's most confident test mistakes in a sentence, and where their explanations are."""
    losses = metrics.get("top_losses") or []
    if not losses:
        return ""
    worst = losses[0]
    files = [name for name in ("top_losses.png", "top_losses.md") if (model_dir / name).is_file()]
    where = f" Each is shown with the explanation of the wrong prediction in [{files[0]}]({files[0]})." if files else ""
    return (
        f"Its {len(losses)} most confident test mistakes have a mean confidence of "
        f"{sum(x['confidence'] for x in losses) / len(losses):.2f} in the wrong class; the worst: a true "
        f"**{worst['true']}** predicted **{worst['predicted']}** with probability {worst['confidence']:.2f}.{where}"
    )


def threshold_text(metrics: dict[str, Any]) -> str:
    """The model's decision threshold and what it gained, with where it is kept; empty without one."""
    sentence = decision_threshold(metrics)
    if not sentence:
        return ""
    return (
        f"Decision threshold: {sentence} The scores above are at the argmax, and `pipeline` ranks the classes by "
        "probability: the threshold is in `config.json` as `decision_threshold`."
    )


def provenance_text(record: dict[str, Any]) -> str:
    """The versions and commit a run was made with, in a sentence (cards and the report's appendix)."""
    if not record:
        return ""
    git = record.get("git") or {}
    commit = (
        f" at git commit {git['commit'][:12]}" + (" (with local changes)" if git.get("dirty") else "") if git else ""
    )
    versions = ", ".join(f"{k} {v}" for k, v in record.get("packages", {}).items())
    return f"Made{commit} with {versions} on {record.get('platform', '')}, started {record.get('started', '')}."


def _base_model_text(metrics: dict[str, Any]) -> str | None:
    """The base model, and for one pretrained by the project what it learnt from and what it left out."""
    text = metrics.get("base_model")
    if text and metrics.get("pretrained_on"):
        left_out = metrics.get("left_out") or {}
        why = "; ".join(f"{name}, {reason}" for name, reason in left_out.items())
        text += f" ({', '.join(metrics['pretrained_on'])}" + (f"; left out: {why})" if why else ")")
    return text


def ensemble_weights_note(metrics: dict[str, Any]) -> str:
    """How an ensemble's weights were set (its metrics' ``weights_note``, core/ensemble.py). Runs from before
    2026-12-04 lack the field: their weights were all the stacking's."""
    return metrics.get("weights_note", "the weights of lowest validation log loss, in steps of 0.1")


def build_model_card(
    metrics: dict[str, Any],
    description: dict[str, Any],
    results: dict[str, Any],
    model_dir: Path,
    model_id: str,
    license: str = "apache-2.0",
) -> ModelCard:
    """The card of one model of a run. ``model_id`` is what the usage snippet loads: a Hub repo id
    once published, else the local folder."""
    task, primary = results["task"], results["primary_metric"]
    test = metrics["test"]
    dataset_id = _hub_id(description.get("hub_dataset"))
    base_model = _hub_id(metrics.get("base_model"))
    eval_results = [
        EvalResult(
            task_type=task,
            dataset_type=dataset_id or description["source"],
            dataset_name=description["source"],
            dataset_split="validation" if results.get("test_is_validation") else "test",
            metric_type=CARD_METRICS[key][0],
            metric_name=CARD_METRICS[key][1],
            metric_value=round(test[key], 4),
        )  # fmt: skip
        for key in CARD_METRICS
        if test.get(key) is not None
    ]
    card_data = ModelCardData(
        model_name=model_id,
        license=license,
        library_name="transformers",
        pipeline_tag=task,
        tags=[
            task,
            {"scratch": "from-scratch", "ensemble": "ensemble", "reference": "reference-baseline"}.get(
                metrics["kind"], "fine-tuned"
            ),
            "classification-lab",
        ],  # fmt: skip
        datasets=[dataset_id] if dataset_id else None,
        base_model=base_model,
        metrics=sorted({CARD_METRICS[key][0] for key in CARD_METRICS if test.get(key) is not None}),
        eval_results=eval_results,
    )
    labels = results["label_names"]
    balance = description["class_balance"]
    sizes = description["num_examples"]
    header, rows = comparison_rows(results["models"], primary)
    modeling_files = sorted(p.name for p in model_dir.glob("modeling_*.py"))
    example_file = TASKS[task].example_file
    fields, example_fields = description.get("input_fields") or [], None
    if example_file:
        local = Path(model_id).exists()
        usage_imports = ["from transformers import pipeline"]
        if local:
            example_input = repr(str(Path(model_id) / example_file))
        else:
            usage_imports.insert(0, "from huggingface_hub import hf_hub_download")
            example_input = f'hf_hub_download("{model_id}", "{example_file}")'
    else:
        usage_imports = ["from transformers import pipeline"]
        first_class = next(iter(description["examples"].values()))
        example_input = repr(first_class[0] if first_class else "An example text.")
        example_fields = split_fields(first_class[0], fields) if first_class and fields else None
    kind_text = {
        "scratch": "trained from scratch (random initialisation) on this dataset",
        "ensemble": "the soft vote of other models of the run (not trained itself)",
        "reference": "the field's reference baseline, fitted in closed form on this dataset",
    }.get(metrics["kind"], "pretrained weights fine-tuned on this dataset")
    if metrics.get("backbone") == "frozen":
        kind_text += " (backbone frozen, only the head trained)"
    members = metrics.get("members") or {}
    ensemble_text = (
        f"The weighted mean of the class probabilities of {', '.join(f'{n} ({w:.2g})' for n, w in members.items())}"
        f": {ensemble_weights_note(metrics)}. Each member loads from its own folder beside this one (or, on the Hub, "
        "its repo beside this one), through `pipeline`; it cost its members' training time, "
        f"{seconds(metrics['train_runtime_s'])} in all."
        if members
        else ""
    )
    hyperparameters = [(k, v) for k, v in metrics["hyperparameters"].items() if v is not None]
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE),
        model_id=model_id,
        summary=(
            f"{TASKS[task].a_noun} classification model ({metrics['name']}, {metrics['kind']}) "
            f"trained on {description['source']}. "
            f"Test {primary}: **{test[primary]:.4f}**"
            + (
                " (best of the run)."
                if results["best_model"] == metrics["name"]
                else f"; best of the run: {results['best_model']}."
            )
        ),  # fmt: skip
        kind_text=kind_text,
        architecture=metrics["architecture"],
        parameters=f"{metrics['num_parameters']:,}",
        trainable=f"{metrics['num_trainable_parameters']:,}",
        base_model_text=_base_model_text(metrics),
        task=task,
        num_classes=len(labels),
        label_list=", ".join(labels),
        num_models=len(results["models"]),
        dataset=description["source"],
        sizes_text=", ".join(f"{sizes[split]:,} {split}" for split in ("train", "validation", "test")) + " examples",
        balance_text=f"Largest/smallest training class: {description['imbalance_ratio']}.",
        balance_rows=[
            [label, *(str(balance[split][label]["count"]) for split in ("train", "validation", "test"))]
            for label in labels
        ],
        data_notes=[f"{key}: {_note_text(value)}" for key, value in description["notes"].items()],
        hyperparameters=hyperparameters,
        epochs_trained=metrics["epochs_trained"],
        reproduce_command=(results.get("provenance") or {}).get("command"),
        reproduce_versions=provenance_text(results.get("provenance") or {}),
        train_runtime=seconds(metrics["train_runtime_s"]),
        throughput=f"{metrics['train_samples_per_second']:.1f} training examples/s"
        if metrics.get("train_samples_per_second")
        else "its members' training",
        ensemble_text=ensemble_text,
        learning_curves=bool(metrics.get("history")),
        training_device=metrics.get("training_device", "the training machine"),
        primary_metric=primary,
        primary_metric_reason=results["primary_metric_reason"],
        test_size=test["num_examples"],
        test_note="; no test split was given, so this is the validation split"
        if results.get("test_is_validation")
        else "",
        test_metrics=[
            (CARD_METRICS[k][1], f"{test[k]:.4f}") for k in [*SCALAR_METRICS, "f1_positive"] if test.get(k) is not None
        ]
        + (
            [("Expected calibration error (lower is better)", f"{test['expected_calibration_error']:.4f}")]
            if test.get("expected_calibration_error") is not None
            else []
        ),
        threshold_text=threshold_text(metrics),
        top_confusions=top_confusions(test, labels),
        curves_text=curves_text(test) if (model_dir / "curves.png").is_file() else "",
        top_losses_text=top_losses_text(metrics, model_dir),
        per_class_rows=[
            [label, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"])]
            for label, v in test["per_class"].items()
        ],
        comparison_intro=f"Test split; primary metric *, best per column in bold. This model: {metrics['name']}.",
        comparison_header=header,
        comparison_rows=rows,
        overfitting_text=results["overfitting"][metrics["name"]]["text"],
        repeated_text=_repeated(metrics, primary),
        latency=f"{metrics['inference_ms_per_sample']:.1f} ms" if metrics.get("inference_ms_per_sample") else "n/a",
        usage_imports=usage_imports,
        example_input="text" if example_fields else example_input,
        example_fields=example_fields,
        input_format=input_format(fields) if fields else "",
        trust_remote_code=bool(modeling_files),
        modeling_files=", ".join(modeling_files),
        intended_use=(
            f"Classifying {TASKS[task].plural} like those of {description['source']} into "
            f"{', '.join(labels)}, and comparing it with the other models trained in the same run. It has not been "
            "evaluated on other data."
        ),
        limitations=_limitations(metrics, results, description),
    )
