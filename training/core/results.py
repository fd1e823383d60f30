"""The run's results: choice of primary metric, per-model ``metrics.json``, ``results.json`` and
``comparison.md``. The layout is documented in README.md ("What a run writes") and read by the
report and the Space; change both together.
"""

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

from training.core.errors import UserError
from training.core.metrics import ERROR_METRICS, PRIMARY_METRIC_CHOICES

SCHEMA_VERSION = 1
# Largest/smallest training class above which accuracy stops being a fair single number.
BALANCED_RATIO = 1.2
# Train-minus-validation gaps of the primary metric that count as mild / strong overfitting.
MILD_GAP, STRONG_GAP = 0.03, 0.10


def write_json(data: Any, path: Path) -> None:
    """Write JSON atomically: a reader never sees a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def choose_primary_metric(train_counts: list[int], requested: str = "auto") -> tuple[str, str]:
    """The metric that ranks models and picks each model's best epoch, and why it was chosen.

    Rule: accuracy when the training classes are balanced (largest/smallest <= 1.2), macro-F1
    otherwise, unless the user asked for a specific metric.
    """
    if requested != "auto":
        if requested not in PRIMARY_METRIC_CHOICES:
            raise UserError(
                f"unknown --primary_metric {requested!r}; choose auto or one of {', '.join(PRIMARY_METRIC_CHOICES)}."
            )
        if requested == "f1_positive" and len(train_counts) != 2:
            raise UserError("--primary_metric f1_positive needs a binary task; use f1_macro for several classes.")
        return requested, f"{requested} was chosen with --primary_metric."
    ratio = max(train_counts) / max(min(train_counts), 1)
    if ratio <= BALANCED_RATIO:
        return "accuracy", (
            f"The classes are balanced (largest/smallest training class = {ratio:.2f} <= {BALANCED_RATIO}), "
            "so accuracy is a fair summary and the easiest to read."
        )
    return "f1_macro", (
        f"The classes are imbalanced (largest/smallest training class = {ratio:.2f} > {BALANCED_RATIO}): "
        "macro-F1 weighs every class equally, so a model cannot score well by favouring the larger classes."
    )


def overfitting_note(metrics: dict[str, Any], primary_metric: str) -> dict[str, Any]:
    """Train vs validation vs test gap of the primary metric, with a verdict."""
    train, validation, test = (metrics[split][primary_metric] for split in ("train", "validation", "test"))
    gap = train - validation
    if gap > STRONG_GAP:
        verdict = "strong overfitting"
    elif gap > MILD_GAP:
        verdict = "mild overfitting"
    else:
        verdict = "no sign of overfitting"
    sample = metrics.get("train_evaluation")
    on_sample = f" (train on a stratified sample of {sample['sample']:,} of {sample['of']:,})" if sample else ""
    return {
        "metric": primary_metric,
        "train": train,
        "validation": validation,
        "test": test,
        "train_validation_gap": round(gap, 4),
        "validation_test_gap": round(validation - test, 4),
        "verdict": verdict,
        **({"train_sample": sample["sample"], "train_size": sample["of"]} if sample else {}),
        "text": (
            f"{primary_metric}: train {train:.3f}, validation {validation:.3f}, test {test:.3f}{on_sample}; "
            f"train-validation gap {gap:+.3f}: {verdict}."
        ),
    }


# Metrics of the test split (the rest of a comparison row is the model's own: size, time).
TEST_METRICS = [*PRIMARY_METRIC_CHOICES, *ERROR_METRICS]

# Columns of the comparison table: (key in the model summary, header, higher is better, format).
COMPARISON_COLUMNS = [
    ("accuracy", "accuracy", True, "{:.4f}"),
    ("precision_macro", "precision (macro)", True, "{:.4f}"),
    ("recall_macro", "recall (macro)", True, "{:.4f}"),
    ("f1_macro", "F1 (macro)", True, "{:.4f}"),
    ("f1_positive", "F1 (positive)", True, "{:.4f}"),
    ("roc_auc", "ROC-AUC", True, "{:.4f}"),
    ("average_precision", "avg precision", True, "{:.4f}"),
    ("expected_calibration_error", "ECE", False, "{:.4f}"),
    ("num_parameters", "parameters", False, "{:,}"),
    ("train_runtime_s", "training time (s)", False, "{:.1f}"),
    ("inference_ms_per_sample", "inference (ms/sample)", False, "{:.1f}"),
]


def comparison_rows(models: list[dict[str, Any]], primary_metric: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the model comparison (test split), primary metric first, best per column in bold.
    A model trained with ``--seeds`` shows each metric as mean ± std over its seeds.

    One implementation for ``comparison.md``, the report and the Space.
    """
    columns = sorted(COMPARISON_COLUMNS, key=lambda c: c[0] != primary_metric)
    columns = [c for c in columns if any(_value(m, c[0]) is not None for m in models)]
    header = ["model", "kind", *(f"{h} *" if k == primary_metric else h for k, h, _, _ in columns)]
    rows = [[m["name"], m["kind"]] for m in models]
    for key, _, higher, fmt in columns:
        spreads = [_seed_spread(m, key) for m in models]
        values = [_value(m, key) if sp is None else sp["mean"] for m, sp in zip(models, spreads, strict=True)]
        present = [v for v in values if v is not None]
        best = (max(present) if higher else min(present)) if present else None
        for row, value, spread in zip(rows, values, spreads, strict=True):
            cell = "n/a" if value is None else fmt.format(value)
            if spread is not None:
                cell += f" ± {spread['std']:.4f}"
            row.append(f"**{cell}**" if value is not None and len(models) > 1 and value == best else cell)
    return header, rows


def _seed_spread(model: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A test metric's mean and std over the seeds of a model trained with ``--seeds``."""
    return model.get("seeds", {}).get("test", {}).get(key) if key in TEST_METRICS else None


def cross_validation_rows(models: list[dict[str, Any]], primary_metric: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the cross-validation table (mean ± std over the held-out folds) of the models
    trained with ``--cv_folds``; no rows when none was."""
    measured = [m for m in models if m.get("cross_validation")]
    columns = sorted((c for c in COMPARISON_COLUMNS if c[0] in TEST_METRICS), key=lambda c: c[0] != primary_metric)
    columns = [c for c in columns if measured and all(c[0] in m["cross_validation"]["metrics"] for m in measured)]
    header = ["model", "folds", *(f"{h} *" if k == primary_metric else h for k, h, _, _ in columns)]
    rows = []
    for model in measured:
        cv = model["cross_validation"]
        cells = [f"{cv['metrics'][k]['mean']:.4f} ± {cv['metrics'][k]['std']:.4f}" for k, *_ in columns]
        rows.append([model["name"], str(cv["folds"]), *cells])
    return header, rows


def _value(model: dict[str, Any], key: str) -> float | None:
    value = model["test"].get(key) if key in TEST_METRICS else model.get(key)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def markdown_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table's lines, then a blank line (comparison.md, the report, the ablation tables)."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
        "",
    ]


def build_results(
    *,
    task: str,
    description: dict[str, Any],
    primary_metric: str,
    primary_metric_reason: str,
    models: list[dict[str, Any]],
    provenance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``results.json``: the run's summary over all models, and how the run was made."""
    best = max(models, key=lambda m: m["test"][primary_metric])
    return {
        "schema_version": SCHEMA_VERSION,
        "task": task,
        "dataset": description["source"],
        "label_names": description["label_names"],
        "num_examples": description["num_examples"],
        "test_is_validation": description["notes"].get("test_is_validation") == "true",
        "primary_metric": primary_metric,
        "primary_metric_reason": primary_metric_reason,
        "best_model": best["name"],
        "overfitting": {m["name"]: overfitting_note(m, primary_metric) for m in models},
        "models": models,
        "provenance": provenance or {},
    }


def write_results(results: dict[str, Any], output_dir: Path, comparison: str) -> None:
    """Write ``comparison.md`` (the ``comparison`` Markdown) then ``results.json``, the file whose presence marks
    a finished run."""
    (output_dir / "comparison.md").write_text(comparison, encoding="utf-8")
    write_json(results, output_dir / "results.json")


RUN_FILES = (
    "dataset.json", "class_balance.png", "examples.png", "results.json", "comparison.md",
    "roc_curves.png", "pr_curves.png", "calibration.png",
)  # fmt: skip


def wants_resume(resume_from_checkpoint: str | None) -> bool:
    """Trainer's ``--resume_from_checkpoint`` given as a flag value ("true", a path) rather than unset/"false"."""
    return bool(resume_from_checkpoint) and str(resume_from_checkpoint).lower() not in ("false", "0", "no")


def check_output_dir(output_dir: Path, overwrite: bool, resume: bool) -> None:
    """Refuse to mix a new run into an existing one (Trainer's convention); called before anything is written."""
    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"--output_dir {output_dir} is a file, not a directory. Choose another --output_dir.")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not (overwrite or resume):
        raise UserError(
            f"output directory {output_dir} already exists and is not empty. Pass --overwrite_output_dir to "
            "replace its results, --resume_from_checkpoint true to continue an interrupted run, or choose "
            "another --output_dir."
        )


def clear_previous_run(output_dir: Path, model_names: list[str]) -> None:
    """Remove an earlier run's files (``--overwrite_output_dir``), and nothing else the user keeps there."""
    for name in RUN_FILES:
        (output_dir / name).unlink(missing_ok=True)
    for name in model_names:
        shutil.rmtree(output_dir / name, ignore_errors=True)
