"""The report's content, made once for every format: the runs' JSON read into a ``document.Document`` of
numbered sections, paragraphs, tables and figures (drawn into the report's ``figures/``). Every number comes
from the runs' ``results.json``/``dataset.json`` (and the sweeps' and ablations' JSON) and every insight is
computed from them (``insights.py``); nothing is written by hand."""

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.core import plots
from training.core.errors import UserError
from training.core.results import comparison_rows, cross_validation_rows
from training.core.tasks import TASKS
from training.reporting import insights
from training.reporting.document import Bullets, Document, Figure, Paragraph, Section, Table
from training.reporting.model_card import ensemble_weights_note, provenance_text


@dataclass
class Run:
    path: Path
    results: dict[str, Any]
    description: dict[str, Any]
    number: int = 0  # its place in the report (figure file names, the notebook's variables)

    @property
    def folder(self) -> str:
        """How the report names the run: its folder (a sweep's retrained best: ``sweep-dir/best``)."""
        return f"{self.path.parent.name}/{self.path.name}" if self.path.name == "best" else self.path.name


@dataclass
class Given:
    """What the report was given: training runs, ablation tables and hyperparameter searches."""

    runs: list[Run]
    ablations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ablation_dirs: list[Path] = field(default_factory=list)
    sweeps: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)


def load_runs(paths: list[Path]) -> Given:
    """The training runs among ``paths``, the ablation tables of the ablation folders and the sweeps
    (``training/sweep.py`` folders; their retrained best model counts as a run too)."""
    given = Given([])
    for path in paths:
        if (path / "ablations.json").is_file():
            given.ablations.update(json.loads((path / "ablations.json").read_text(encoding="utf-8")))
            given.ablation_dirs.append(path)
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
        given.runs.append(Run(path, results, description, len(given.runs) + 1))
    if not given.runs:
        raise UserError("no training run given: the report needs at least one run's --output_dir.")
    return given


def _size_mb(model_dir: Path) -> float:
    return sum(p.stat().st_size for p in model_dir.glob("*.safetensors")) / 1e6


def _modality(results: dict[str, Any]) -> str:
    return TASKS[results["task"]].noun  # "text", "image", "time series"


def task_section(run: Run) -> Section:
    results = run.results
    models, names = results["models"], results["label_names"]
    kinds = sorted({m["kind"] for m in models})
    text = (
        f"Classify each {_modality(results)} of {results['dataset']} into one of {len(names)} classes "
        f"({', '.join(names)}), comparing {len(models)} models: {', '.join(m['name'] for m in models)} "
        f"({' and '.join(kinds)}). Every model is trained and evaluated on the same splits."
    )
    return Section("Task", [Paragraph(text)], role="task")


def data_section(run: Run, figures: Path) -> Section:
    results, description = run.results, run.description
    n = description["num_examples"]
    total = sum(v for k, v in n.items() if k != "test" or not results.get("test_is_validation"))
    note = " (the validation split doubles as the test split)" if results.get("test_is_validation") else ""
    text = (
        f"Source: {description['source']}. {total:,} examples: "
        f"{', '.join(f'{k} {v:,}' for k, v in n.items())}{note}; largest/smallest training class "
        f"{description['imbalance_ratio']:.2f} ({{fig:data-{run.number}}}; counts in {{tab:balance-{run.number}}})."
    )
    split = description.get("notes", {}).get("split")
    if split:
        text += f" Split: {split}."
    path = figures / f"data-{run.number}.png"
    examples = _examples(run)
    plots.plot_dataset_overview(description["class_balance"], examples, path)
    example_code = (
        f"RUNS[{run.number}] / 'examples.png'"
        if isinstance(examples, Path)
        else f"{{label: texts[0] for label, texts in datasets[{run.number}]['examples'].items() if texts}}"
    )
    figure = Figure(
        f"data-{run.number}",
        f"{results['dataset']}: examples per split and class (left) and training examples (right).",
        [path],
        code=f"plots.plot_dataset_overview(datasets[{run.number}]['class_balance'], {example_code}, "
        f"FIGURES / '{path.name}')\nImage(FIGURES / '{path.name}', width=700)",
    )
    return Section("Data", [Paragraph(text), figure], role="data")


def _examples(run: Run) -> Path | dict[str, str] | None:
    if (run.path / "examples.png").is_file():
        return run.path / "examples.png"
    examples = run.description.get("examples", {})
    texts = {label: items[0] for label, items in examples.items() if items and isinstance(items[0], str)}
    return texts or None


def metrics_section(run: Run) -> Section:
    results = run.results
    text = (
        f"Models are ranked by **{results['primary_metric']}** on the test split. {results['primary_metric_reason']} "
        "Also reported: accuracy, macro precision, recall and F1 (every class counts equally), ROC-AUC and average "
        "precision (how well the predicted probabilities rank), the expected calibration error (ECE: the gap "
        "between confidence and accuracy over 10 equal-mass bins; lower is better), per-class results and "
        "confusion matrices. Each model keeps the epoch "
        "with the best validation score; the test split is looked at once, at the end."
    )
    return Section("Metrics", [Paragraph(text)], role="metrics")


def models_section(run: Run) -> Section:
    models = run.results["models"]
    table = Table(
        f"models-{run.number}",
        "The models: architecture, parameters (all and trained) and size on disk.",
        ["model", "kind", "architecture", "parameters", "trainable", "MB"],
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
        ],  # fmt: skip
        wide=True,
        code=f"pd.DataFrame([{{k: m[k] for k in ('name', 'kind', 'architecture', 'num_parameters', "
        f"'num_trainable_parameters')}} for m in results[{run.number}]['models']])",
    )
    scratch = [m["name"] for m in models if m["kind"] == "scratch"]
    pretrained = [m["name"] for m in models if m["kind"] == "pretrained"]
    references = [m["name"] for m in models if m["kind"] == "reference"]
    ensembles = [m for m in models if m["kind"] == "ensemble"]
    text = f"{{tab:models-{run.number}}} lists the models."
    if scratch:
        text += f" Trained from scratch: {', '.join(scratch)}."
    if pretrained:
        text += f" Fine-tuned from pretrained weights: {', '.join(pretrained)}."
    if references:
        text += f" The field's reference baseline, fitted in closed form (no epochs): {', '.join(references)}."
    for ensemble in ensembles:
        vote = ", ".join(f"{n} {w:.2g}" for n, w in ensemble["members"].items() if w)
        text += f" {ensemble['name']} is the soft vote of the others ({vote}): {ensemble_weights_note(ensemble)}."
    return Section("Models", [Paragraph(text), table], role="models")


def experiments_section(run: Run, given: Given) -> Section:
    models, metric = run.results["models"], run.results["primary_metric"]
    devices = sorted({m.get("training_device", "") for m in models} - {""})
    epochs = ", ".join(
        f"{m['name']} {m['epochs_trained']}" for m in models if m["kind"] not in ("ensemble", "reference")
    )
    by_loss = [m["name"] for m in models if m.get("hyperparameters", {}).get("metric_for_best_model") == "eval_loss"]
    loss_note = f" ({', '.join(by_loss)}: the epoch of lowest validation loss)" if by_loss else ""
    text = (
        "Each model is trained with the Hugging Face Trainer, evaluated on the validation split after every epoch, "
        f"and keeps its best epoch{loss_note} (early stopping where its lineup sets it). Epochs trained: {epochs}"
        + (f"; on {', '.join(devices)}" if devices else "")
        + f". Every hyperparameter is in {{tab:hyper-{run.number}}}."
    )
    blocks: list[Any] = [Paragraph(text)]
    cv_header, cv_rows = cross_validation_rows(models, metric)
    if cv_rows:
        folds = {m["cross_validation"]["folds"] for m in models if m.get("cross_validation")}
        blocks.append(Paragraph(
            f"Cross-validation: stratified {'/'.join(map(str, sorted(folds)))}-fold on the training split, each "
            f"fold's model scored on its held-out fold ({{tab:cv-{run.number}}}, mean ± standard deviation); the "
            "validation split still chose each model's epoch."
        ))  # fmt: skip
        blocks.append(Table(f"cv-{run.number}", "Cross-validation on the training split.", cv_header, cv_rows))
    seeded = [m for m in models if m.get("seeds")]
    if seeded:
        blocks.append(Paragraph(
            "Repeated training: " + "; ".join(
                f"{m['name']} with {len(m['seeds']['seeds'])} seeds, test {metric} "
                f"{m['seeds']['test'][metric]['mean']:.3f} ± {m['seeds']['test'][metric]['std']:.3f}"
                for m in seeded
            ) + ". The results table shows mean ± std over the seeds for these models."
        ))  # fmt: skip
    if not cv_rows and not seeded:
        blocks.append(Paragraph(
            "Each model was trained once (no --cv_folds or --seeds), so the noise estimates below are the test "
            "set's only."
        ))  # fmt: skip
    own = [what for what, given_ in (("the hyperparameter searches", given.sweeps), ("the ablations", given.ablations))
           if given_]  # fmt: skip
    if own:
        sections = "sections" if len(own) > 1 else "section"
        blocks.append(Paragraph(f"{' and '.join(own).capitalize()} have their own {sections} below."))
    return Section("Experiments", blocks, role="experiments")


def results_section(run: Run, figures: Path) -> Section:
    results, number = run.results, run.number
    models, metric = results["models"], results["primary_metric"]
    header, rows = comparison_rows(models, metric)
    table = Table(
        f"results-{number}",
        f"Test split ({results['num_examples']['test']:,} examples): primary metric marked *, best per column in bold.",
        header,
        rows,
        wide=True,
        code=f"pd.DataFrame([{{'model': m['name'], 'kind': m['kind'], **{{k: v for k, v in m['test'].items() "
        f"if isinstance(v, float)}}, 'training time (s)': m['train_runtime_s']}}\n"
        f"              for m in results[{number}]['models']])",
    )
    blocks: list[Any] = [
        Paragraph(
            f"{{tab:results-{number}}} compares the models on the test split, with what each costs to train and to "
            f"run. {insights.winner(results)}"
        ),
        table,
    ]
    thresholds = insights.thresholds(results)
    if thresholds:
        blocks.append(Paragraph("The table's scores are at the argmax. " + " ".join(thresholds)))
    cm = figures / f"cm-{number}.png"
    plots.plot_confusion_matrices(
        {m["name"]: m["test"]["confusion_matrix"] for m in models}, results["label_names"], cm
    )
    worst = insights.confusions(results)
    blocks += [
        Paragraph(f"{{fig:cm-{number}}} shows where each model errs. " + " ".join(worst)),
        Figure(
            f"cm-{number}",
            "Test confusion matrices, each row normalised to the true class (%), on one colour scale.",
            [cm],
            code=f"plots.plot_confusion_matrices({{m['name']: m['test']['confusion_matrix'] for m in "
            f"results[{number}]['models']}}, results[{number}]['label_names'], FIGURES / '{cm.name}')\n"
            f"Image(FIGURES / '{cm.name}', width=700)",
        ),
    ]
    histories = {m["name"]: m["history"] for m in models if m.get("history")}
    overfit = insights.overfitting(results)
    if histories:
        curves = figures / f"curves-{number}.png"
        plots.plot_validation_curves(histories, metric, curves)
        blocks += [
            Paragraph(
                f"{{fig:curves-{number}}} shows how training went. {overfit} (Per split: {{tab:overfit-{number}}}.)"
            ),
            Figure(
                f"curves-{number}",
                f"Validation {metric} per epoch (left); validation (solid) and train (dashed) loss (right).",
                [curves],
                code=f"plots.plot_validation_curves({{m['name']: m['history'] for m in results[{number}]['models']}}, "
                f"results[{number}]['primary_metric'], FIGURES / '{curves.name}')\n"
                f"Image(FIGURES / '{curves.name}', width=700)",
            ),
        ]
    else:
        blocks.append(Paragraph(f"{overfit} (Per split: {{tab:overfit-{number}}}.)"))
    blocks += curve_blocks(run, figures) + top_loss_blocks(run, figures)
    blocks.append(Paragraph(f"Throughput and latency in full: {{tab:efficiency-{number}}}."))
    return Section("Results", blocks, role="results")


def _with_curves(run: Run) -> dict[str, dict[str, Any]]:
    """The test metrics of the models that recorded their curves and calibration (runs from before did not)."""
    return {
        m["name"]: m["test"] for m in run.results["models"] if m["test"].get("curves") and m["test"].get("calibration")
    }


def curve_blocks(run: Run, figures: Path) -> list[Any]:
    """The ROC, precision-recall and reliability figure, with what they show: crossing curves, calibration."""
    measured, number = _with_curves(run), run.number
    if not measured:
        return []
    path = figures / f"roc-{number}.png"
    plots.plot_curves_and_calibration(measured, path)
    first = next(iter(measured.values()))["curves"]
    scope = f"for the positive class ({first['positive_class']})" if first.get("positive_class") else "macro-averaged"
    found = [insights.curve_crossing(run.results), insights.calibration(run.results)]
    text = f"{{fig:roc-{number}}} shows how well each model's probabilities rank the classes and whether they "
    text += "can be believed. " + " ".join(line for line in found if line)
    caption = (
        f"Test split: ROC (left) and precision-recall (middle) curves {scope}, with AUC and average precision (AP); "
        "reliability diagram (right): accuracy against confidence over 10 equal-mass bins, with the expected "
        "calibration error (ECE)."
    )
    code = (
        f"plots.plot_curves_and_calibration({{m['name']: m['test'] for m in results[{number}]['models'] "
        f"if m['test'].get('curves')}}, FIGURES / '{path.name}')\nImage(FIGURES / '{path.name}', width=700)"
    )
    return [Paragraph(text), Figure(f"roc-{number}", caption, [path], code=code)]


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _best_and_worst(run: Run) -> list[dict[str, Any]]:
    """The best and the worst model that make mistakes (a perfect model has no top losses to show)."""
    metric = run.results["primary_metric"]
    ranked = sorted((m for m in run.results["models"] if m.get("top_losses")), key=lambda m: -m["test"][metric])
    return ranked[:1] + ranked[-1:] if len(ranked) > 1 else ranked


def top_loss_blocks(run: Run, figures: Path) -> list[Any]:
    """The most confident mistakes of the best and the worst model: their images with the explanation below
    (images), or a table of the texts with the words that drove the mistake (text); and what they share."""
    chosen, number = _best_and_worst(run), run.number
    if not chosen:
        return []
    metric, models = run.results["primary_metric"], run.results["models"]
    ranked = [m["name"] for m in sorted(models, key=lambda m: -m["test"][metric])]
    names = " and ".join(
        f"{m['name']} ({_ordinal(ranked.index(m['name']) + 1)} of {len(ranked)} on {metric})" for m in chosen
    )
    found = " ".join(insights.mistakes(run.results, run.description))
    pictures = [run.path / m["name"] / "top_losses_strip.png" for m in chosen]
    if all(p.is_file() for p in pictures):
        path = figures / f"toplosses-{number}.png"
        plots.stack_pictures(pictures, path, side_by_side=True)
        text = f"{{fig:toplosses-{number}}} shows the most confident test mistakes of {names}. {found}"
        series = run.results["task"] == "time-series-classification"  # core/analysis.py draws two, not three
        caption = (
            f"The {'two' if series else 'three'} most confident test "
            f"mistakes of {' (left) and '.join(m['name'] for m in chosen)}"
            f"{' (right)' if len(chosen) > 1 else ''}, more in each model's top_losses.png: "
            + (
                "each series as the model read it (true class, predicted class and its probability) over the "
                "explanation of the wrong prediction (red: the stretches that drove it)."
                if series
                else "each image as the model saw it (true class, predicted class and its probability) and below it "
                "the explanation of the wrong prediction (red: the regions that drove it)."
            )
        )
        return [Paragraph(text), Figure(f"toplosses-{number}", caption, [path],
                                        code=f"Image(FIGURES / '{path.name}', width=700)")]  # fmt: skip
    rows = [
        [m["name"], x["true"], x["predicted"], f"{x['confidence']:.2f}", ", ".join(x.get("top_words", [])[:3]),
         x["input"] if len(x["input"]) <= 60 else x["input"][:57] + "..."]
        for m in chosen for x in m["top_losses"][:2]
    ]  # fmt: skip
    table = Table(
        f"toplosses-{number}",
        "Most confident test mistakes (top two) of the best and the worst model that err, with the words that pushed "
        "hardest towards the wrong class (integrated gradients); every model's twelve are in its top_losses.md.",
        ["model", "true", "predicted", "p", "words that drove it", "text"],
        rows,
        wide=True,
        code=f"pd.DataFrame([{{'model': m['name'], **x}} for m in results[{number}]['models'] "
        f"if m['name'] in {[m['name'] for m in chosen]!r} for x in m.get('top_losses', [])[:2]])",
    )
    return [Paragraph(f"{{tab:toplosses-{number}}} lists the most confident test mistakes of {names}. {found}"), table]


def insights_section(run: Run, title: str = "Insights") -> Section:
    """What the run shows, beyond the results section's details: who wins and whether it is noise, what
    pretraining buys, what the win costs."""
    results = run.results
    lines = [insights.winner(results), insights.pretraining(results), insights.cost(results),
             insights.calibration(results)]  # fmt: skip
    return Section(title, [Bullets([line for line in lines if line])], role="insights")


def run_sections(run: Run, given: Given, figures: Path) -> list[Section]:
    """The paper's sections for one run."""
    return [
        task_section(run),
        data_section(run, figures),
        metrics_section(run),
        models_section(run),
        experiments_section(run, given),
        results_section(run, figures),
    ]


def sweep_section(sweeps: list[tuple[Path, dict[str, Any]]], figures: Path) -> Section:
    """The hyperparameter searches: space, budget, default vs best, the best configuration on test, plots."""
    subsections = []
    for index, (path, sweep) in enumerate(sweeps, 1):
        key = f"sweep-{index}"
        pictures = []
        for name in ("optimization_history", "param_importances"):
            if (path / f"{name}.png").is_file():
                pictures.append(shutil.copy(path / f"{name}.png", figures / f"{key}-{name}.png"))
        text = f"Searched over {{tab:{key}}}. " + insights.search_summary(sweep, _validation_size(path))
        blocks: list[Any] = [
            Paragraph(text + (f" {{fig:{key}}} shows the search." if pictures else "")),
            Table(
                key,
                f"{sweep['model']}: the search space.",
                ["parameter", "searched over"],
                [[name, _space_entry(entry)] for name, entry in sweep["search_space"].items()],
                code=f"pd.DataFrame(sweeps[{index}]['trials'])[['number', 'state', 'value', 'params', "
                "'epochs_trained', 'duration_s']]",
            ),
        ]
        if pictures:
            blocks.append(
                Figure(
                    key,
                    f"{sweep['model']}: optimisation history and parameter importance.",
                    [Path(p) for p in pictures],
                )
            )
        subsections.append(Section(f"{sweep['model']} ({sweep['task']})", blocks))
    return Section("Hyperparameter search", subsections=subsections, role="search")


def _validation_size(sweep_dir: Path) -> int | None:
    results = sweep_dir / "best" / "results.json"
    return json.loads(results.read_text(encoding="utf-8"))["num_examples"]["validation"] if results.is_file() else None


def _space_entry(entry: dict[str, Any]) -> str:
    if entry["type"] == "categorical":
        return ", ".join(map(str, entry["choices"]))
    scale = " (log scale)" if entry.get("log") else ""
    return f"{insights.short(entry['low'])} to {insights.short(entry['high'])}{scale}"


def ablation_section(ablations: dict[str, list[dict[str, Any]]]) -> Section:
    """Each ablation's variants and what the change did (training/ablate.py: each variant a full training run)."""
    subsections = []
    for index, (name, rows) in enumerate(ablations.items(), 1):
        metric = rows[0]["metric"]
        table = Table(
            f"ablation-{index}",
            f"Ablation {name}: each variant a full training run.",
            ["variant", f"validation {metric}", f"test {metric}", "training time (s)", "train-validation gap"],
            [
                [
                    r["variant"],
                    f"{r['validation']:.4f}",
                    f"{r['test']:.4f}",
                    f"{r['train_runtime_s']:.1f}",
                    f"{r['train_validation_gap']:+.3f} ({r['verdict']})",
                ]
                for r in rows
            ],  # fmt: skip
            wide=True,
            code=f"pd.DataFrame(ablations[{name!r}])",
        )
        text = f"{{tab:ablation-{index}}}: {insights.ablation_effect(name, rows)}"
        subsections.append(Section(name, [Paragraph(text), table]))
    return Section("Ablations", subsections=subsections, role="ablations")


def appendix_sections(run: Run, figures: Path) -> list[Section]:
    """Per-class results, class counts, every hyperparameter, overfitting and efficiency in full, each model's
    own figures, and how the run was made."""
    results, number = run.results, run.number
    models, names = results["models"], results["label_names"]
    blocks: list[Any] = []
    per_class = []
    for m in models:
        key = f"perclass-{number}-{m['name']}"
        per_class.append(f"{{tab:{key}}}")
        per_class_rows = [
            [c, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", v["support"]]
            for c, v in m["test"]["per_class"].items()
        ]
        blocks.append(Table(key, f"{m['name']}: per-class test results.", ["class", "precision", "recall", "F1",
                                                                           "support"], per_class_rows,
                            code=f"pd.DataFrame(next(m for m in results[{number}]['models'] if m['name'] == "
                                 f"{m['name']!r})['test']['per_class']).T"))  # fmt: skip
    balance = run.description["class_balance"]
    blocks.append(Table(
        f"balance-{number}", "Examples per class and split (share of the split).",
        ["class", *balance], [[c, *(f"{balance[s][c]['count']} ({balance[s][c]['share']:.0%})" for s in balance)]
                              for c in names],
    ))  # fmt: skip
    keys = list(dict.fromkeys(k for m in models for k in m["hyperparameters"]))
    blocks.append(Table(
        f"hyper-{number}", "Every hyperparameter each model was trained with.",
        ["hyperparameter", *(m["name"] for m in models)],
        [[k, *(insights.short(m["hyperparameters"].get(k, "")) for m in models)] for k in keys],
        code=f"pd.DataFrame({{m['name']: m['hyperparameters'] for m in results[{number}]['models']}})",
    ))  # fmt: skip
    notes = results["overfitting"]
    sampled = next((v for v in notes.values() if "train_sample" in v), None)
    on_sample = (f" The train figures are on a fixed stratified sample of {sampled['train_sample']:,} of the "
                 f"{sampled['train_size']:,} training examples." if sampled else "")  # fmt: skip
    blocks.append(Table(
        f"overfit-{number}", f"The primary metric by split, and the train-validation gap.{on_sample}",
        ["model", "train", "validation", "test", "gap", "verdict"],
        [[name, f"{v['train']:.3f}", f"{v['validation']:.3f}", f"{v['test']:.3f}", f"{v['train_validation_gap']:+.3f}",
          v["verdict"]] for name, v in notes.items()],
        code=f"pd.DataFrame(results[{number}]['overfitting']).T",
    ))  # fmt: skip
    blocks.append(Table(
        f"efficiency-{number}", "Training time, throughput and inference latency.",
        ["model", "training time", "examples/s", "ms/example", "inference device"],
        [[m["name"], insights.seconds(m["train_runtime_s"]),
          f"{m['train_samples_per_second']:.1f}" if m.get("train_samples_per_second") else "its members'",
          f"{m['inference_ms_per_sample']:.1f}", m.get("inference_device", "")] for m in models],
    ))  # fmt: skip
    own = []
    for m in models:
        pictures = [
            Path(shutil.copy(run.path / m["name"] / f"{kind}.png", figures / f"{number}-{m['name']}-{kind}.png"))
            for kind in ("confusion_matrix", "learning_curves")
            if (run.path / m["name"] / f"{kind}.png").is_file()
        ]
        if pictures:
            key = f"own-{number}-{m['name']}"
            own.append(f"{{fig:{key}}}")
            blocks.append(Figure(key, f"{m['name']}: its confusion matrix (counts) and learning curves.", pictures))
    intro = f"Per-class test results: {', '.join(per_class)}."
    if own:
        intro += f" Each model's own figures: {', '.join(own)}."
    per_class_curves = [run.path / name for name in ("roc_curves.png", "pr_curves.png")]
    if len(names) > 2 and all(p.is_file() for p in per_class_curves):
        path = figures / f"classcurves-{number}.png"
        plots.stack_pictures(per_class_curves, path)
        intro += f" ROC and precision-recall curves per class (one-vs-rest): {{fig:classcurves-{number}}}."
        blocks.append(Figure(f"classcurves-{number}", "ROC (top) and precision-recall (bottom) curves of every "
                             "model, one class against the rest, on the test split.", [path],
                             code=f"Image(FIGURES / '{path.name}', width=700)"))  # fmt: skip
    blocks.insert(0, Paragraph(intro))
    blocks += provenance_blocks(run)
    return [Section(f"{results['dataset']} ({run.folder})", blocks, role="appendix", key=f"appendix-{number}")]


def provenance_blocks(run: Run) -> list[Any]:
    """How the run was made: the command, the versions, the commit (runs from before it was recorded say so)."""
    record = run.results.get("provenance") or {}
    if not record:
        return [Paragraph("This run predates the record of its command line and versions.")]
    return [Paragraph(f"Reproduce the run with `{record['command']}`. {provenance_text(record)}")]


KIND_PHRASES = {
    "scratch": "trained from scratch",
    "pretrained": "fine-tuned from pretrained weights",
    "reference": "a reference baseline",
    "ensemble": "their ensemble",
}


def lineup_kinds(models: list[dict[str, Any]]) -> str:
    """What kinds of model a run compares, in words: "trained from scratch and fine-tuned from pretrained weights"."""
    phrases = [KIND_PHRASES[k] for k in KIND_PHRASES if any(m["kind"] == k for m in models)]
    return ", ".join(phrases[:-1]) + (" and " if len(phrases) > 1 else "") + phrases[-1]


def abstract(given: Given) -> str:
    """One paragraph that states the result."""
    parts = []
    for run in given.runs:
        results = run.results
        n = results["num_examples"]
        parts.append(
            f"On {results['dataset']} ({sum(n.values()):,} {_modality(results)} examples, "
            f"{len(results['label_names'])} classes) we compare {len(results['models'])} models "
            f"{lineup_kinds(results['models'])}. " + insights.winner(results).replace("**", "")
        )
        pretraining = insights.pretraining(results)
        if pretraining:
            parts.append(pretraining)
    if given.sweeps:
        parts.append(
            f"{len(given.sweeps)} hyperparameter search(es) and {len(given.ablations)} ablation(s) complete it."
        )
    elif given.ablations:
        parts.append(f"{len(given.ablations)} ablation(s) test the design choices.")
    return " ".join(parts)


def build_document(given: Given, figures: Path, title: str | None = None) -> Document:
    """The report's content, with its figures drawn into ``figures``."""
    figures.mkdir(parents=True, exist_ok=True)
    runs = given.runs
    datasets = dict.fromkeys(r.results["dataset"] for r in runs)  # a sweep's best shares its run's dataset
    title = title or "Scratch vs pretrained classifiers: " + "; ".join(datasets)
    if len(runs) == 1:
        sections = run_sections(runs[0], given, figures)
    else:
        sections = [
            Section(f"{_modality(r.results).capitalize()}: {r.results['dataset']} ({r.folder})",
                    subsections=run_sections(r, given, figures), role="run", key=f"run-{r.number}")
            for r in runs
        ]  # fmt: skip
    if given.sweeps:
        sections.append(sweep_section(given.sweeps, figures))
    if given.ablations:
        sections.append(ablation_section(given.ablations))
    if len(runs) == 1:
        sections.append(insights_section(runs[0], "Insights and conclusion"))
    else:
        sections.append(Section("Insights and conclusion", subsections=[
            insights_section(r, r.results["dataset"]) for r in runs
        ], role="insights"))  # fmt: skip
    appendix = [section for run in runs for section in appendix_sections(run, figures)]
    subtitle = f"Written by training/report.py on {time.strftime('%Y-%m-%d')} from " + ", ".join(r.folder for r in runs)
    document = Document(title, abstract(given), sections, appendix, subtitle)
    document.check()
    return document
