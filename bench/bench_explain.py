"""Are the explanations faithful? The deletion test, for every model of the given runs, on their test split.

    python bench/bench_explain.py                   # outputs/text, outputs/image, outputs/bench/hymenoptera
    python bench/bench_explain.py outputs/text --max_examples 50

For each test example, each model's prediction is explained (``training.core.explain``, as the Space and the top
losses explain it), then the 10% most-attributed tokens are deleted (or pixels masked to the mean colour) and the
drop of the predicted class's probability is compared with deleting as many chosen at random
(``explain.deletion_test``). A faithful explanation drops it clearly more: the target is a mean top drop above the
mean random drop with a one-sided Wilcoxon signed-rank p < 0.01 over the test examples. The test split is
rebuilt from each run's recorded arguments (``results.json`` ``provenance``) with the script's own ``load_data``,
so it is the split the models were scored on. Writes (updates, per run) bench/results/explain.json; exits
non-zero on a miss.
"""

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import wilcoxon

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from training.core.explain import deletion_test, explain  # noqa: E402
from training.core.tasks import TASKS  # noqa: E402

DEFAULT_RUNS = [ROOT / "outputs" / "text", ROOT / "outputs" / "image", ROOT / "outputs" / "bench" / "hymenoptera"]
P_VALUE = 0.01


def test_inputs(run: Path) -> list[Any]:
    """The run's test inputs (texts or images), rebuilt from its recorded arguments."""
    results = json.loads((run / "results.json").read_text())
    modality = TASKS[results["task"]].name
    script = importlib.import_module(f"training.train_{modality}")
    record = results.get("provenance") or {}
    arguments = record.get("arguments")
    if arguments:  # every resolved argument of the data dataclass, and the seed that split the data
        argv = [f"--{k}={v}" for k, v in arguments["data"].items() if v is not None]
        argv += [f"--seed={arguments['training']['seed']}", f"--output_dir={run}"]
    else:
        argv = [f"--output_dir={run}"]
    args = script.parse(argv)
    split = script.load_data(args).splits["test"]
    column = {"text": "text", "image": "image", "timeseries": "series"}[modality]
    return [np.asarray(x, dtype=float) for x in split[column]] if modality == "timeseries" else list(split[column])


def bench_model(model_dir: Path, inputs: list[Any], labels: list[str]) -> dict[str, Any]:
    from transformers import pipeline

    task = json.loads((model_dir.parent / "results.json").read_text())["task"]
    classifier = pipeline(task, model=str(model_dir), trust_remote_code=True, device="cpu")
    model = classifier.model.eval()
    processor = next(
        p for p in (classifier.tokenizer, classifier.image_processor, classifier.feature_extractor) if p is not None
    )
    top, random, seconds, method = [], [], [], ""
    for index, example in enumerate(inputs):
        start = time.perf_counter()
        explanation = explain(model, processor, example)
        seconds.append(time.perf_counter() - start)
        result = deletion_test(model, explanation, seed=index)
        top.append(result["drop_top"])
        random.append(result["drop_random"])
        method = explanation.method
    difference = np.asarray(top) - np.asarray(random)
    p_value = float(wilcoxon(difference, alternative="greater").pvalue) if np.any(difference) else 1.0
    passed = statistics.fmean(top) > statistics.fmean(random) and p_value < P_VALUE
    return {
        "examples": len(inputs),
        "method": method,
        "drop_top_10pct": round(statistics.fmean(top), 4),
        "drop_random_10pct": round(statistics.fmean(random), 4),
        "share_top_above_random": round(float(np.mean(difference > 0)), 3),
        "wilcoxon_p": p_value,
        "explain_ms_median": round(1000 * statistics.median(seconds), 1),
        "pass": passed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path, default=DEFAULT_RUNS, help="run output directories")
    parser.add_argument("--max_examples", type=int, default=None, help="the first N test examples only")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    out = ROOT / "bench" / "results" / "explain.json"
    # Runs benched earlier keep their entries (each run is dated): the three runs can be measured one at a time.
    report: dict[str, Any] = json.loads(out.read_text()) if out.is_file() else {"fraction": 0.1, "runs": {}}
    ok = True
    for run in args.runs:
        if not (run / "results.json").is_file():
            sys.exit(f"{run} has no results.json: train it first (make text, make image, bench/bench_image.py).")
        results = json.loads((run / "results.json").read_text())
        inputs = test_inputs(run)[: args.max_examples]
        print(f"\n== {run.name}: {results['dataset']}, {len(inputs)} test examples", flush=True)
        rows = {}
        for model in (m for m in results["models"] if m["kind"] != "ensemble"):  # a vote: its members' explanations
            rows[model["name"]] = row = bench_model(run / model["name"], inputs, results["label_names"])
            ok &= row["pass"]
            print(
                f"  {model['name']:<18} drop top 10% {row['drop_top_10pct']:.3f}  random 10% "
                f"{row['drop_random_10pct']:.3f}  top > random on {row['share_top_above_random']:.0%}  "
                f"p {row['wilcoxon_p']:.1e}  {row['explain_ms_median']:.0f} ms/explanation  "
                f"{'PASS' if row['pass'] else 'FAIL'}",
                flush=True,
            )
        report["runs"][str(run.relative_to(ROOT)) if run.is_relative_to(ROOT) else str(run)] = {
            "dataset": results["dataset"], "date": time.strftime("%Y-%m-%d"), "models": rows,
        }  # fmt: skip
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWritten {out}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
