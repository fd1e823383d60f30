"""Conclusions computed from a run's results: who wins and whether the margin is beyond the test
set's noise, what the win costs in training time, what each model confuses most, who overfits,
and what pretraining buys. Every sentence is built from the numbers in ``results.json``, so two
runs with different results read differently (tests/test_report.py checks it).
"""

import math
import statistics
from collections import Counter
from typing import Any

import numpy as np
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


def decision_threshold(model: dict[str, Any]) -> str | None:
    """The threshold a binary model ranked by F1 of the positive class predicts that class from (its metrics'
    ``decision_threshold``, chosen on validation) and what it changed against the argmax, in a sentence."""
    chosen = model.get("decision_threshold")
    if not chosen:
        return None
    validation, test = chosen["validation"], chosen["test"]
    instead = "" if chosen["threshold"] == 0.5 else " instead of 0.5"
    return (
        f"{model['name']} predicts the positive class ({chosen['positive_class']}) from probability "
        f"{chosen['threshold']:.3f}{instead} (chosen on {chosen['chosen_on']}): F1 {validation['at_argmax']:.3f} -> "
        f"{validation['at_threshold']:.3f} on validation, {test['at_argmax']:.3f} -> {test['at_threshold']:.3f} on "
        "test."
    )


def thresholds(results: dict[str, Any]) -> list[str]:
    """``decision_threshold``'s sentence for each model that has a threshold."""
    return [line for line in map(decision_threshold, results["models"]) if line]


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
    """The gap between the best pretrained and the best scratch model, and for a pretrained model that names
    its ``scratch_counterpart`` (the same network from random weights) the gap that pretraining alone makes."""
    metric = results["primary_metric"]
    kinds = {kind: [m for m in results["models"] if m["kind"] == kind] for kind in ("scratch", "pretrained")}
    if not kinds["scratch"] or not kinds["pretrained"]:
        return None
    scratch = max(kinds["scratch"], key=lambda m: _score(m, metric))
    pretrained = max(kinds["pretrained"], key=lambda m: _score(m, metric))
    gap = _score(pretrained, metric) - _score(scratch, metric)
    if math.isclose(gap, 0, abs_tol=5e-4):  # equal at the precision shown
        sentence = (
            f"Pretraining does not pay here: the best model trained from scratch ({scratch['name']}) ties the best "
            f"pretrained one ({pretrained['name']}) at {_score(scratch, metric):.3f} {metric}."
        )
    elif gap > 0:
        sentence = (
            f"Pretraining pays: the best pretrained model ({pretrained['name']}) beats the best model trained "
            f"from scratch ({scratch['name']}) by {gap:.3f} {metric}."
        )
    else:
        sentence = (
            f"Pretraining does not pay here: the best model trained from scratch ({scratch['name']}) beats "
            f"the best pretrained one ({pretrained['name']}) by {-gap:.3f} {metric}."
        )
    by_name = {m["name"]: m for m in results["models"]}
    for model in kinds["pretrained"]:
        twin = by_name.get(model.get("scratch_counterpart") or "")
        if twin is None:
            continue
        same = f"{model['name']} is {twin['name']}'s network started from pretrained weights instead of random ones"
        if model is pretrained and twin is scratch:  # the sentence above compared these two already
            sentence += f" {same}: that gap is what pretraining alone changed."
        else:
            difference = _score(model, metric) - _score(twin, metric)
            verdict = "helped" if difference >= 5e-4 else "hurt" if difference <= -5e-4 else "made no difference"
            sentence += (
                f" {same}: pretraining {verdict} ({_score(model, metric):.3f} against {_score(twin, metric):.3f} "
                f"{metric})."
            )
        repeated = repeated_comparison(model, twin, metric)
        if repeated:
            sentence += f" {repeated}"
    return sentence


def overall_calibration(calibration: dict[str, Any]) -> tuple[float, float]:
    """Mean confidence and accuracy over all of a model's calibration bins."""
    total = sum(b["count"] for b in calibration["bins"])
    confidence = sum(b["count"] * b["confidence"] for b in calibration["bins"]) / total
    return confidence, sum(b["count"] * b["accuracy"] for b in calibration["bins"]) / total


def calibration(results: dict[str, Any]) -> str | None:
    """Which model's probabilities can be believed: the lowest and highest expected calibration error, and
    whether the worst is over- or under-confident."""
    measured = [m for m in results["models"] if m["test"].get("calibration")]
    if not measured:
        return None

    def ece(model: dict[str, Any]) -> float:
        return model["test"]["calibration"]["expected_calibration_error"]

    best, worst = min(measured, key=ece), max(measured, key=ece)
    bins = len(best["test"]["calibration"]["bins"])
    sentence = (
        f"**{best['name']}** is the best calibrated (expected calibration error {ece(best):.3f}, "
        f"{bins} equal-mass bins)"
    )
    if worst is best:
        return sentence + "."
    confidence, accuracy = overall_calibration(worst["test"]["calibration"])
    leaning = "overconfident" if confidence > accuracy else "underconfident"
    return (
        f"{sentence}; {worst['name']} is the least ({ece(worst):.3f}), {leaning}: its mean confidence is "
        f"{confidence:.3f} for an accuracy of {accuracy:.3f}."
    )


# TPR differences smaller than this do not count as one ROC curve lying above the other.
CURVE_MARGIN = 0.01


def curve_crossing(results: dict[str, Any]) -> str | None:
    """Whether the ROC curves of the two models with the highest AUC cross, and where: the model with the higher
    AUC is not the better one at every threshold."""
    measured = [m for m in results["models"] if (m["test"].get("curves") or {}).get("roc")]
    if len(measured) < 2:
        return None
    auc = {m["name"]: m["test"]["curves"]["roc"]["summary"]["auc"] for m in measured}
    first, second = sorted(measured, key=lambda m: -auc[m["name"]])[:2]
    grid = np.linspace(0, 1, 201)
    curve = [m["test"]["curves"]["roc"]["summary"] for m in (first, second)]
    difference = np.interp(grid, curve[0]["fpr"], curve[0]["tpr"]) - np.interp(grid, curve[1]["fpr"], curve[1]["tpr"])
    scope = "" if first["test"]["curves"].get("positive_class") else " (macro-averaged)"
    below = grid[difference < -CURVE_MARGIN]
    if not len(below):
        return (
            f"{first['name']}'s ROC curve{scope} lies on or above {second['name']}'s at every false-positive rate "
            f"(AUC {auc[first['name']]:.3f} vs {auc[second['name']]:.3f}): it is the better choice at any threshold."
        )
    low, high = float(below.min()), float(below.max())
    return (
        f"The ROC curves{scope} of {first['name']} (AUC {auc[first['name']]:.3f}) and {second['name']} "
        f"(AUC {auc[second['name']]:.3f}) cross: {second['name']} has the higher true-positive rate at "
        f"false-positive rates between {low:.2f} and {high:.2f}, so a threshold chosen for that range favours it "
        "despite its lower AUC."
    )


def _mistakes(model: dict[str, Any], description: dict[str, Any] | None, test_share: dict[str, float]) -> str:
    losses = model["top_losses"]
    count, (true, times) = len(losses), Counter(x["true"] for x in losses).most_common(1)[0]
    confidence = statistics.fmean(x["confidence"] for x in losses)
    share = test_share.get(true)
    sentence = (
        f"{model['name']}'s {count} most confident mistakes (mean confidence {confidence:.2f} in the wrong class): "
        f"{times} are truly **{true}**" + (f" ({share:.0%} of the test split)" if share is not None else "")
    )
    test = ((description or {}).get("statistics") or {}).get("test", {})
    if "words" in losses[0] and "words" in test:
        median = statistics.median(x["words"] for x in losses)
        sentence += (
            f"; their median length is {median:.0f} words against {test['words']['median']:.0f} in the test split"
        )
    elif "length" in losses[0] and "length" in test:
        median = statistics.median(x["length"] for x in losses)
        sentence += (
            f"; their median length is {median:.0f} steps against {test['length']['median']:.0f} in the test split"
        )
    elif "width" in losses[0] and "width" in test:
        width = statistics.median(x["width"] for x in losses)
        height = statistics.median(x["height"] for x in losses)
        sentence += (
            f"; their median size is {width:.0f} x {height:.0f} px against "
            f"{test['width']['median']:.0f} x {test['height']['median']:.0f} in the test split"
        )
    words = Counter(w.lower() for x in losses for w in x.get("top_words", [])[:3])
    common = [w for w, n in words.most_common(3) if n > 1]
    if common:
        sentence += "; the words that most often drove them: " + ", ".join(f"'{w}'" for w in common)
    return sentence + "."


def mistakes(results: dict[str, Any], description: dict[str, Any] | None = None) -> list[str]:
    """What the most confident mistakes (top losses) of the best and the worst model have in common: their true
    class (against its share of the test split), their length or image size, and the words that drove them."""
    metric = results["primary_metric"]
    ranked = [m for m in sorted(results["models"], key=lambda m: -_score(m, metric)) if m.get("top_losses")]
    if not ranked:
        return []
    balance = ((description or {}).get("class_balance") or {}).get("test", {})
    test_share = {name: value["share"] for name, value in balance.items()}
    chosen = ranked[:1] + ranked[-1:] if len(ranked) > 1 else ranked
    return [_mistakes(m, description, test_share) for m in chosen]


def insights(results: dict[str, Any], description: dict[str, Any] | None = None) -> list[str]:
    """All of the above, in reading order (``description``: the run's ``dataset.json``, for the mistakes)."""
    lines = [
        winner(results), cost(results), pretraining(results), overfitting(results), calibration(results),
        curve_crossing(results), *thresholds(results), *confusions(results), *mistakes(results, description),
    ]  # fmt: skip
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
