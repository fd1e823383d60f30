"""The Markdown comparisons a run and an ablation study write (``comparison.md``, ``ablations.md``), with the
insights computed from them; the report includes the same tables."""

from typing import Any

from training.core.results import comparison_rows, cross_validation_rows, markdown_table
from training.reporting import insights


def comparison_markdown(results: dict[str, Any]) -> str:
    """``comparison.md``: the comparison table with the primary metric, whether the winner's lead is beyond
    the noise, the cross-validation table when there is one, and the overfitting notes."""
    models, metric = results["models"], results["primary_metric"]
    header, rows = comparison_rows(models, metric)
    seeds = sorted({len(m["seeds"]["seeds"]) for m in models if m.get("seeds")})
    lines = [
        f"# Model comparison: {results['dataset']}",
        "",
        f"Test split ({results['num_examples']['test']} examples). Primary metric (*): "
        f"**{metric}**. {results['primary_metric_reason']} Best value per column in bold.",
        "",
        *markdown_table(header, rows),
    ]
    if seeds:
        lines += [
            f"± : standard deviation over {'/'.join(map(str, seeds))} training seeds (the saved model is the first "
            "seed's; its own scores are in its metrics.json).",
            "",
        ]
    lines += [insights.winner(results), ""]
    cv_header, cv_rows = cross_validation_rows(models, metric)
    if cv_rows:
        lines += [
            "## Cross-validation",
            "",
            "Stratified K-fold on the training split: each fold's model trained on the other folds and scored on "
            "the held-out one (mean ± standard deviation over the folds).",
            "",
            *markdown_table(cv_header, cv_rows),
        ]
    lines += [
        "## Overfitting",
        "",
        *(f"- **{name}**: {note['text']}" for name, note in results["overfitting"].items()),
        "",
    ]
    if results.get("test_is_validation"):
        lines.insert(4, "Note: no test split was given, so the validation split doubles as the test split.\n")
    return "\n".join(lines)


def ablation_tables(results: dict[str, list[dict[str, Any]]], level: int = 1) -> str:
    """``ablations.md``; the report includes the same tables one heading level down."""
    lines = ["#" * level + " Ablations", ""]
    for name, rows in results.items():
        metric = rows[0]["metric"]
        header = ["variant", f"validation {metric}", f"test {metric}", "training time (s)", "train-validation gap"]
        cells = [
            [r["variant"], f"{r['validation']:.4f}", f"{r['test']:.4f}", f"{r['train_runtime_s']:.1f}",
             f"{r['train_validation_gap']:+.3f} ({r['verdict']})"]
            for r in rows
        ]  # fmt: skip
        lines += ["#" * (level + 1) + f" {name}", "", *markdown_table(header, cells)]
        lines += [insights.ablation_effect(name, rows), ""]
    return "\n".join(lines)
