"""Conclusions computed from a run's results: who wins and whether the margin is beyond the test
set's noise, what the win costs in training time, what each model confuses most, who overfits,
and what pretraining buys. Every sentence is built from the numbers in ``results.json``, so two
runs with different results read differently (tests/test_report.py checks it).
"""

import math
import statistics
from typing import Any

from scipy import stats

# Two standard errors of a proportion: the rough 95% band within which two scores on the same test
# set are not told apart (the test set is small next to the differences we report).
NOISE_Z = 2.0


def _score(model: dict[str, Any], metric: str) -> float:
    return model["test"][metric]


def seconds(value: float) -> str:
    """A duration as people read it: 0.4 s, 12 s, 3.5 min."""
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def standard_error(value: float, n: int) -> float:
    """Binomial standard error of a score (a proportion) measured on ``n`` examples."""
    return math.sqrt(max(value * (1 - value), 1e-12) / max(n, 1))


def winner(results: dict[str, Any]) -> str:
    """The best model on the primary metric, its margin over the runner-up, and whether that margin
    is beyond the test set's noise, and beyond the cross-validation or seed noise when both were measured."""
    metric, n = results["primary_metric"], results["num_examples"]["test"]
    ranked = sorted(results["models"], key=lambda m: -_score(m, metric))
    best = ranked[0]
    sentence = f"**{best['name']}** wins on test {metric} with {_score(best, metric):.3f}"
    if len(ranked) == 1:
        return sentence + "."
    second = ranked[1]
    margin = _score(best, metric) - _score(second, metric)
    noise = NOISE_Z * math.hypot(standard_error(_score(best, metric), n), standard_error(_score(second, metric), n))
    verdict = (
        f"beyond the test set's noise (about ±{noise:.3f} for two scores on {n} examples)"
        if margin > noise
        else f"within the test set's noise (about ±{noise:.3f} on {n} examples): on this data the two are not "
        "reliably different"
    )
    runner_up = f"{second['name']} ({_score(second, metric):.3f})"
    sentence = f"{sentence}, {margin:.3f} ahead of {runner_up}; that margin is {verdict}."
    repeated = repeated_comparison(best, second, metric)
    return f"{sentence} {repeated}" if repeated else sentence


def _paired(a: dict[str, Any], b: dict[str, Any], metric: str) -> tuple[str, list[float], list[float]] | None:
    """Two models' scores over the same cross-validation folds (preferred) or the same seeds."""
    for kind, scores in (
        ("cross_validation", lambda m: m["cross_validation"]["metrics"]),
        ("seeds", lambda m: m["seeds"]["test"]),
    ):
        if a.get(kind) and b.get(kind):
            x, y = scores(a).get(metric, {}).get("values", []), scores(b).get(metric, {}).get("values", [])
            if len(x) == len(y) > 1:
                return kind, x, y
    return None


def repeated_comparison(a: dict[str, Any], b: dict[str, Any], metric: str) -> str | None:
    """Whether ``a`` beats ``b`` beyond the noise of repeated measurements: a paired t-test over the
    same folds or seeds. Cross-validation folds share training data, so their variance gets Nadeau and
    Bengio's correction (1/K + n_test/n_train = 1/K + 1/(K-1)); a plain paired t-test would call
    differences significant far too often."""
    paired = _paired(a, b, metric)
    if paired is None:
        return None
    kind, x, y = paired
    k = len(x)
    differences = [p - q for p, q in zip(x, y, strict=True)]
    mean = statistics.fmean(differences)
    variance = statistics.variance(differences)
    factor = 1 / k + 1 / (k - 1) if kind == "cross_validation" else 1 / k
    if variance == 0:
        p_value = 1.0 if mean == 0 else 0.0
    else:
        t = mean / math.sqrt(factor * variance)
        p_value = float(2 * stats.t.sf(abs(t), df=k - 1))
    what = f"{k} cross-validation folds" if kind == "cross_validation" else f"{k} training seeds"
    test = "corrected resampled t-test" if kind == "cross_validation" else "paired t-test"
    beyond = p_value < 0.05 and mean > 0
    return (
        f"Over the same {what}, {a['name']} scores {mean:+.3f} {metric} against {b['name']} on average "
        f"({test}, p = {p_value:.2f}): "
        + ("beyond the noise of repeated training." if beyond else "within the noise of repeated training.")
    )


def cost(results: dict[str, Any]) -> str | None:
    """What the winner's score costs in training time next to the fastest model to train."""
    metric = results["primary_metric"]
    best = max(results["models"], key=lambda m: _score(m, metric))
    fastest = min(results["models"], key=lambda m: m["train_runtime_s"])
    if fastest is best:
        return f"{best['name']} is also the fastest to train ({seconds(best['train_runtime_s'])}): no trade-off here."
    ratio = best["train_runtime_s"] / max(fastest["train_runtime_s"], 1e-9)
    gain = _score(best, metric) - _score(fastest, metric)
    return (
        f"The win costs training time: {best['name']} trained in {seconds(best['train_runtime_s'])}, {ratio:.1f}x "
        f"{fastest['name']}'s {seconds(fastest['train_runtime_s'])}, for {gain:+.3f} {metric}; its inference takes "
        f"{best['inference_ms_per_sample']:.1f} ms per example against {fastest['inference_ms_per_sample']:.1f} ms."
    )


def confusions(results: dict[str, Any]) -> list[str]:
    """Each model's most frequent mistake on the test split (from its confusion matrix)."""
    names = results["label_names"]
    lines = []
    for model in results["models"]:
        matrix = model["test"]["confusion_matrix"]
        mistakes = [(matrix[t][p], t, p) for t in range(len(names)) for p in range(len(names)) if t != p]
        count, true, predicted = max(mistakes, default=(0, 0, 0))
        if count == 0:
            lines.append(f"{model['name']} makes no mistake on the test split.")
            continue
        total = sum(matrix[true])
        lines.append(
            f"{model['name']} most often takes **{names[true]}** for **{names[predicted]}** "
            f"({count} of {total} {names[true]} test examples)."
        )
    return lines


def overfitting(results: dict[str, Any]) -> str:
    """Which models overfit, by the train-validation gap of the primary metric."""
    notes = results["overfitting"]
    over = sorted(
        (n for n, note in notes.items() if note["verdict"] != "no sign of overfitting"),
        key=lambda n: -notes[n]["train_validation_gap"],
    )
    if not over:
        return "No model overfits noticeably: every train-validation gap of the primary metric is small."
    parts = [f"{name} ({notes[name]['verdict']}, gap {notes[name]['train_validation_gap']:+.3f})" for name in over]
    return "Overfitting: " + "; ".join(parts) + "."


def pretraining(results: dict[str, Any]) -> str | None:
    """The gap between the best pretrained and the best scratch model."""
    metric = results["primary_metric"]
    kinds = {kind: [m for m in results["models"] if m["kind"] == kind] for kind in ("scratch", "pretrained")}
    if not kinds["scratch"] or not kinds["pretrained"]:
        return None
    scratch = max(kinds["scratch"], key=lambda m: _score(m, metric))
    pretrained = max(kinds["pretrained"], key=lambda m: _score(m, metric))
    gap = _score(pretrained, metric) - _score(scratch, metric)
    if math.isclose(gap, 0, abs_tol=5e-4):  # equal at the precision shown
        return (
            f"Pretraining does not pay here: the best model trained from scratch ({scratch['name']}) ties the best "
            f"pretrained one ({pretrained['name']}) at {_score(scratch, metric):.3f} {metric}."
        )
    if gap > 0:
        return (
            f"Pretraining pays: the best pretrained model ({pretrained['name']}) beats the best model trained "
            f"from scratch ({scratch['name']}) by {gap:.3f} {metric}."
        )
    return (
        f"Pretraining does not pay here: the best model trained from scratch ({scratch['name']}) beats "
        f"the best pretrained one ({pretrained['name']}) by {-gap:.3f} {metric}."
    )


def insights(results: dict[str, Any]) -> list[str]:
    """All of the above, in reading order."""
    lines = [winner(results), cost(results), pretraining(results), overfitting(results), *confusions(results)]
    return [line for line in lines if line]


def short(value: Any) -> str:
    """A parameter value as tables and sentences show it: 3 significant digits for floats."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def search_summary(sweep: dict[str, Any], validation_examples: int | None) -> str:
    """A hyperparameter search in one paragraph (``sweep.md`` and the report): budget, pruning, the best
    trial, what it gained over the default, and the best configuration retrained and scored on test."""
    metric, best = sweep["primary_metric"], sweep["best"]
    # Sweeps written before the Ray backend existed have no "backend": they ran on Optuna alone.
    on_ray = sweep.get("backend") == "ray"
    text = (
        f"{sweep['finished_trials']} trials of Optuna's TPE sampler through Trainer.hyperparameter_search"
        + (" on Ray Tune " if on_ray else " ")
        + f"({sweep['pruned_trials']} pruned early by the {sweep['pruner']} {'scheduler' if on_ray else 'pruner'}), "
        f"{seconds(sweep['search_seconds'])} of training in all; objective: {sweep['objective']}. "
        f"Best: trial {best['number']} with validation {metric} {best['value']:.4f} ("
        + ", ".join(f"{k} {short(v)}" for k, v in best["params"].items())
        + ")."
    )
    if sweep.get("default"):
        text += " " + search_gain(sweep, validation_examples)
    retrained = sweep.get("retrained")
    if retrained:
        text += (
            f" Retrained from scratch with that configuration: validation {retrained['validation']:.4f}, "
            f"test {metric} {retrained['test']:.4f} (training {seconds(retrained['train_runtime_s'])}); "
            "the test score is the unbiased one, since the best of many trials' validation scores is picked "
            "partly for its luck."
        )
    return text


def search_gain(sweep: dict[str, Any], validation_examples: int | None) -> str:
    """What a hyperparameter search gained over the default configuration on validation, and whether
    that gain is beyond the validation split's noise."""
    metric, best, default = sweep["primary_metric"], sweep["best"], sweep["default"]
    change = best["value"] - default["value"]
    trials = [t for t in sweep["trials"] if t.get("value") is not None and t.get("state") == "COMPLETE"]
    ties = sum(math.isclose(t["value"], best["value"]) for t in trials)
    if default["value"] >= 1.0:
        return (
            f"The default configuration (trial {default['number']}) already scores the maximum, {metric} 1.0000 on "
            f"validation: no configuration can beat it, and {ties} finished trial(s) tie with it. The validation "
            "split is too easy to rank configurations on this data."
        )
    sentence = f"The default configuration (trial {default['number']}) scored {default['value']:.4f}: the search "
    if change <= 0:
        return sentence + "found nothing better."
    sentence += f"gained {change:+.4f}"
    if not validation_examples:
        return sentence + "."
    noise = NOISE_Z * math.hypot(
        standard_error(best["value"], validation_examples), standard_error(default["value"], validation_examples)
    )
    verdict = "beyond" if change > noise else "within"
    return f"{sentence}, {verdict} the validation split's noise (about ±{noise:.3f} on {validation_examples} examples)."


def ablation_effect(name: str, rows: list[dict[str, Any]]) -> str:
    """What one ablation changed: the best and worst variant on validation, by how much, at what time cost."""
    best = max(rows, key=lambda r: r["validation"])
    worst = min(rows, key=lambda r: r["validation"])
    metric = best["metric"]
    if best is worst or best["validation"] == worst["validation"]:
        return f"{name}: every variant scores the same validation {metric} ({best['validation']:.3f})."
    return (
        f"{name}: {best['variant']} is best on validation {metric} ({best['validation']:.3f}), "
        f"{best['validation'] - worst['validation']:.3f} above {worst['variant']} ({worst['validation']:.3f}); "
        f"test {best['test']:.3f} vs {worst['test']:.3f}; training took {seconds(best['train_runtime_s'])} vs "
        f"{seconds(worst['train_runtime_s'])}."
    )
