"""The report: a short paper written from one or more runs' outputs.

    python -m training.report outputs/text                       # outputs/text/report.md and report.html
    python -m training.report outputs/news outputs/digits --output_dir outputs/report

``report.md``, a self-contained ``report.html`` (figures embedded, opens offline) and ``report.pdf``. Sections: task,
dataset, metrics (and why the primary one), models, experiments (training set-up, cross-validation,
repeated seeds), results (test table, confusion matrices, learning curves, overfitting, efficiency)
and insights; then the hyperparameter searches and ablations given (``training/sweep.py`` and
``training/ablate.py`` folders), and an appendix with per-class results and every hyperparameter.
Every number comes from the runs' JSON files and every insight is computed from them
(training/reporting/insights.py); nothing is written by hand.
"""

import base64
import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import HfArgumentParser

from training.core.errors import UserError, run_cli
from training.core.results import comparison_rows, cross_validation_rows, markdown_table
from training.reporting import insights
from training.reporting.tables import ablation_tables

CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
h1 { font-size: 1.7rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; }
th { background: #f2f2f2; } img { max-width: 100%; } code { font-size: .9em; }
"""


@dataclass
class ReportArguments:
    """Which runs to report on, and where."""

    run_dirs: list[str] = field(metadata={"help": "Finished runs' output directories (the first arguments)."})
    output_dir: str | None = field(default=None, metadata={"help": "Where to write. Default: the first run."})
    title: str | None = field(default=None, metadata={"help": "The report's title. Default: from the runs."})
    pdf: bool = field(default=True, metadata={"help": "Also write report.pdf (--pdf false to skip it)."})


@dataclass
class Run:
    path: Path
    results: dict[str, Any]
    description: dict[str, Any]


@dataclass
class Given:
    """What the report was given: training runs, ablation tables and hyperparameter searches."""

    runs: list[Run]
    ablations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sweeps: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)


def load_runs(paths: list[Path]) -> Given:
    """The training runs among ``paths``, the ablation tables of the ablation folders and the sweeps
    (``training/sweep.py`` folders; their retrained best model counts as a run too)."""
    given = Given([])
    for path in paths:
        if (path / "ablations.json").is_file():
            given.ablations.update(json.loads((path / "ablations.json").read_text(encoding="utf-8")))
            continue
        if (path / "sweep.json").is_file():
            given.sweeps.append((path, json.loads((path / "sweep.json").read_text(encoding="utf-8"))))
            if not (path / "best" / "results.json").is_file():
                continue
            path = path / "best"
        if not (path / "results.json").is_file():
            raise UserError(
                f"{path} has no results.json (nor ablations.json or sweep.json): give the --output_dir of a finished "
                "training run, of training/ablate.py or of training/sweep.py."
            )
        results = json.loads((path / "results.json").read_text(encoding="utf-8"))
        description = json.loads((path / "dataset.json").read_text(encoding="utf-8"))
        given.runs.append(Run(path, results, description))
    if not given.runs:
        raise UserError("no training run given: the report needs at least one run's --output_dir.")
    return given


def _figure(path: Path, caption: str, base: Path) -> list[str]:
    if not path.is_file():
        return []
    link = os.path.relpath(path.resolve(), base.resolve())
    return [f"![{caption}]({link})", "", f"*{caption}*", ""]


def _size_mb(model_dir: Path) -> float:
    return sum(p.stat().st_size for p in model_dir.glob("*.safetensors")) / 1e6


def experiment_notes(models: list[dict[str, Any]], metric: str, ablations_given: bool, sweeps_given: bool) -> list[str]:
    """What was measured beyond one training run per model: cross-validation (its table), repeated
    seeds, and pointers to the ablation and search sections."""
    out = []
    cv_header, cv_rows = cross_validation_rows(models, metric)
    if cv_rows:
        folds = {m["cross_validation"]["folds"] for m in models if m.get("cross_validation")}
        out += [
            f"Cross-validation: stratified {'/'.join(map(str, sorted(folds)))}-fold on the training split, each "
            "fold's model scored on its held-out fold (mean ± standard deviation); the validation split still "
            "chose each model's epoch.",
            "",
            *markdown_table(cv_header, cv_rows),
        ]
    seeded = [m for m in models if m.get("seeds")]
    if seeded:
        out += [
            "Repeated training: "
            + "; ".join(
                f"{m['name']} with {len(m['seeds']['seeds'])} seeds, test {metric} "
                f"{m['seeds']['test'][metric]['mean']:.3f} ± {m['seeds']['test'][metric]['std']:.3f}"
                for m in seeded
            )
            + ". The results table shows mean ± std over the seeds for these models.",
            "",
        ]
    if not cv_rows and not seeded:
        out += [
            "Each model was trained once (no --cv_folds or --seeds), so the noise estimates below are the test "
            "set's only.",
            "",
        ]
    out += [
        ("Ablations are in their own section below. " if ablations_given else "No ablations were given. ")
        + ("The hyperparameter searches are in their own section below." if sweeps_given else "No hyperparameter "
           "search was given."),
        "",
    ]  # fmt: skip
    return out


def sweep_section(sweeps: list[tuple[Path, dict[str, Any]]], base: Path) -> list[str]:
    """The hyperparameter searches: space, budget, default vs best, the best configuration on test, plots."""
    out = ["## Hyperparameter search", ""]
    for path, sweep in sweeps:
        out += [f"### {sweep['model']} ({sweep['task']})", ""]
        out += markdown_table(
            ["parameter", "searched over"],
            [[name, _space_entry(entry)] for name, entry in sweep["search_space"].items()],
        )
        out += [insights.search_summary(sweep, _validation_size(path)), ""]
        for name, caption in (
            ("optimization_history", "optimisation history"),
            ("param_importances", "parameter importance"),
        ):
            out += _figure(path / f"{name}.png", f"{sweep['model']}: {caption}", base)
    return out


def _validation_size(sweep_dir: Path) -> int | None:
    results = sweep_dir / "best" / "results.json"
    return json.loads(results.read_text(encoding="utf-8"))["num_examples"]["validation"] if results.is_file() else None


def _space_entry(entry: dict[str, Any]) -> str:
    if entry["type"] == "categorical":
        return ", ".join(map(str, entry["choices"]))
    scale = " (log scale)" if entry.get("log") else ""
    return f"{insights.short(entry['low'])} to {insights.short(entry['high'])}{scale}"


def run_sections(
    run: Run, number: int, base: Path, ablations_given: bool = False, sweeps_given: bool = False
) -> list[str]:
    """The paper's sections for one run (numbered ``number.x`` when several runs share a report)."""
    results, description = run.results, run.description
    metric, task = results["primary_metric"], results["task"].replace("-", " ")
    models, names = results["models"], results["label_names"]
    n = description["num_examples"]
    kinds = {m["kind"] for m in models}
    folder = f"{run.path.parent.name}/{run.path.name}" if run.path.name == "best" else run.path.name
    out = [f"## {number}. {task.capitalize()}: {results['dataset']} ({folder})", ""]

    out += [
        "### Task",
        "",
        f"Classify each {'text' if 'text' in task else 'image'} into one of "
        f"{len(names)} classes ({', '.join(names)}), comparing {len(models)} models: "
        f"{', '.join(m['name'] for m in models)} ({' and '.join(sorted(kinds))}).",
        "",
    ]

    balance = description["class_balance"]
    out += [
        "### Dataset",
        "",
        f"Source: {description['source']}. "
        f"{sum(v for k, v in n.items() if k != 'test' or not results.get('test_is_validation')):,} examples: "
        f"{', '.join(f'{k} {v:,}' for k, v in n.items())}"
        f"{' (the validation split doubles as the test split)' if results.get('test_is_validation') else ''}. "
        f"Largest/smallest training class: {description['imbalance_ratio']:.2f}.",
        "",
    ]
    out += markdown_table(
        ["class", *(f"{split} (share)" for split in balance)],
        [
            [name, *(f"{balance[s][name]['count']} ({balance[s][name]['share']:.0%})" for s in balance)]
            for name in names
        ],
    )
    examples = description.get("examples", {})
    if "text" in task and examples:
        first = {label: " ".join(texts[0].split()) for label, texts in examples.items() if texts}
        out += [
            "Examples:",
            "",
            *(f"- *{label}*: {text[:160]}{'...' if len(text) > 160 else ''}" for label, text in first.items()),
            "",
        ]
    out += _figure(run.path / "examples.png", "Training examples per class", base)

    out += [
        "### Metrics",
        "",
        f"Models are ranked by **{metric}** on the test split. {results['primary_metric_reason']} "
        "Also reported: accuracy, macro precision, recall and F1 (every class counts equally), ROC-AUC "
        "(ranking quality of the predicted probabilities), per-class results and confusion matrices. "
        "Each model keeps the epoch with the best validation score.",
        "",
    ]

    out += ["### Models", ""]
    out += markdown_table(
        ["model", "kind", "architecture", "parameters", "trainable", "size (MB)"],
        [
            [
                m["name"],
                m["kind"],
                m["architecture"],
                f"{m['num_parameters']:,}",
                f"{m['num_trainable_parameters']:,}",
                f"{_size_mb(run.path / m['name']):.1f}",
            ]
            for m in models
        ],
    )

    out += ["### Experiments", ""]
    keys = ["learning_rate", "num_train_epochs", "per_device_train_batch_size", "weight_decay", "optim"]
    out += markdown_table(
        ["model", *keys, "epochs trained", "device"],
        [
            [
                m["name"],
                *(m["hyperparameters"].get(k, "") for k in keys),
                m["epochs_trained"],
                m.get("training_device", ""),
            ]
            for m in models
        ],
    )
    out += experiment_notes(models, metric, ablations_given, sweeps_given)

    header, rows = comparison_rows(models, metric)
    out += [
        "### Results",
        "",
        f"Test split, {n['test']:,} examples; primary metric marked *; best per column in bold.",
        "",
        *markdown_table(header, rows),
    ]
    for m in models:
        out += _figure(run.path / m["name"] / "confusion_matrix.png", f"{m['name']}: confusion matrix (test)", base)
    for m in models:
        out += _figure(run.path / m["name"] / "learning_curves.png", f"{m['name']}: learning curves", base)
    notes = results["overfitting"]
    out += ["Overfitting (primary metric by split):", ""]
    out += markdown_table(
        ["model", "train", "validation", "test", "train-validation gap", "verdict"],
        [
            [
                name,
                f"{v['train']:.3f}",
                f"{v['validation']:.3f}",
                f"{v['test']:.3f}",
                f"{v['train_validation_gap']:+.3f}",
                v["verdict"],
            ]
            for name, v in notes.items()
        ],
    )
    out += ["Efficiency:", ""]
    out += markdown_table(
        ["model", "training time", "training throughput (examples/s)", "inference (ms/example)", "device"],
        [
            [
                m["name"],
                insights.seconds(m["train_runtime_s"]),
                f"{m['train_samples_per_second']:.1f}",
                f"{m['inference_ms_per_sample']:.1f}",
                m.get("inference_device", ""),
            ]
            for m in models
        ],
    )

    out += ["### Insights", "", *(f"- {line}" for line in insights.insights(results)), ""]
    return out


def appendix(run: Run, number: int) -> list[str]:
    out = [f"### A.{number} {run.results['dataset']}: per-class test results", ""]
    for m in run.results["models"]:
        per_class = m["test"]["per_class"]
        out += [
            f"**{m['name']}**",
            "",
            *markdown_table(
                ["class", "precision", "recall", "F1", "support"],
                [
                    [c, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", v["support"]]
                    for c, v in per_class.items()
                ],
            ),
        ]
    out += [f"### A.{number}b Hyperparameters", ""]
    for m in run.results["models"]:
        out += [f"- **{m['name']}**: " + ", ".join(f"{k}={v}" for k, v in m["hyperparameters"].items())]
    return [*out, ""]


def build_report(given: Given, base: Path, title: str | None = None) -> str:
    """The report's Markdown; figure links are relative to ``base`` (where report.md is written)."""
    runs = given.runs
    title = title or "Scratch vs pretrained classifiers: " + "; ".join(r.results["dataset"] for r in runs)
    lines = [f"# {title}", ""]
    summary = [insights.winner(r.results) for r in runs]
    lines += ["**Summary.** " + " ".join(s.replace("**", "") for s in summary), ""]
    for number, run in enumerate(runs, 1):
        lines += run_sections(run, number, base, bool(given.ablations), bool(given.sweeps))
    if given.sweeps:
        lines += sweep_section(given.sweeps, base)
    if given.ablations:
        lines += [
            ablation_tables(given.ablations, level=2),
            "Each variant is a full training run (training/ablate.py).",
            "",
        ]
    lines += ["## Appendix", ""]
    for number, run in enumerate(runs, 1):
        lines += appendix(run, number)
    return "\n".join(lines)


def to_html(markdown: str, base: Path, title: str) -> str:
    """Self-contained HTML: the Markdown rendered by markdown-it, each figure inlined as a data URI."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(markdown)

    def inline(match: re.Match) -> str:
        path = (base / match.group(1)).resolve()
        if not path.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"'

    body = re.sub(r'src="([^"]+\.png)"', inline, body)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{CSS}</style></head><body>\n{body}</body></html>\n"
    )


def to_pdf(html: str, path: Path) -> bool:
    """The HTML as a PDF through xhtml2pdf (pure Python, on ReportLab: no browser or system library
    needed). Written to a temporary file first, so a failure leaves no half-written PDF behind."""
    from xhtml2pdf import pisa

    partial = path.with_suffix(".pdf.partial")
    logging.getLogger("xhtml2pdf").setLevel(logging.ERROR)  # it lists the CSS it ignores (border-collapse)
    with partial.open("wb") as handle:
        failed = pisa.CreatePDF(html, dest=handle).err
    if failed:
        partial.unlink()
        return False
    partial.replace(path)
    return True


def write_report(
    run_dirs: list[Path], output_dir: Path | None = None, title: str | None = None, pdf: bool = True
) -> list[Path]:
    """Write report.md, report.html and (``pdf``) report.pdf; returns their paths."""
    given = load_runs(run_dirs)
    output_dir = output_dir or given.runs[0].path
    output_dir.mkdir(parents=True, exist_ok=True)
    markdown = build_report(given, output_dir, title)
    md_path, html_path = output_dir / "report.md", output_dir / "report.html"
    md_path.write_text(markdown, encoding="utf-8")
    html = to_html(markdown, output_dir, markdown.splitlines()[0][2:])
    html_path.write_text(html, encoding="utf-8")
    written = [md_path, html_path]
    if pdf:
        if to_pdf(html, output_dir / "report.pdf"):
            written.append(output_dir / "report.pdf")
        else:
            print("report.pdf could not be made (xhtml2pdf reported errors); report.html prints to PDF from a browser.")
    return written


def main() -> None:
    argv = sys.argv[1:]
    positional = []
    while argv and not argv[0].startswith("-"):
        positional.append(argv.pop(0))
    # Run folders come first, as positional arguments; --help (or nothing) goes to the parser as it is.
    given = ["--run_dirs", *positional] if positional else []
    (args,) = HfArgumentParser(ReportArguments).parse_args_into_dataclasses([*given, *argv])
    paths = write_report(
        [Path(p) for p in args.run_dirs], Path(args.output_dir) if args.output_dir else None, args.title, args.pdf
    )
    for path in paths:
        print(f"Written {path}")


if __name__ == "__main__":
    run_cli(main)
