"""The benchmark runner both bench scripts share: run a training script as a user would (a separate
process, ``accelerate launch -q``), read the results.json it wrote, print each figure next to its
target, and write ``bench/results/<name>.json``. Exits non-zero when a target is missed.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def run(
    script: str, name: str, spec: dict[str, Any], output_root: Path, processes: int = 1, report_only: bool = False
) -> dict[str, Any]:
    """One benchmark. ``spec``: args, metric, split (default test), targets (model -> minimum; models
    without one are reported only), relative_targets (model -> (other, margin)), best_targets ([(models,
    minimum)]: the best of them), best_relative_targets ([(models, other, margin)]: the best of them against
    another model of the run), max_wall_s (whole run), max_train_s (model -> training seconds).
    ``processes`` > 1: that many processes (one per GPU), as ``accelerate launch --multi_gpu``.
    ``report_only``: read the run already in ``output_root`` instead of training again (no wall time)."""
    output = output_root / name
    launcher = [str(Path(sys.executable).parent / "accelerate"), "launch", "-q"]
    if processes > 1:
        launcher += ["--multi_gpu", "--num_processes", str(processes)]
    command = [*launcher, str(ROOT / "training" / script), *spec["args"], "--output_dir", str(output),
               "--overwrite_output_dir"]  # fmt: skip
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    if not report_only:
        subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = None if report_only else time.perf_counter() - start
    results = json.loads((output / "results.json").read_text())
    split, metric = spec.get("split", "test"), spec["metric"]
    rows: list[tuple[str, Any, str, bool | None]] = []
    if spec.get("max_wall_s") and wall is not None:
        rows.append(("wall time (s)", round(wall, 1), f"<= {spec['max_wall_s']}", wall <= spec["max_wall_s"]))

    def score(model: dict[str, Any]) -> float:  # split "cv": the mean over the cross-validation folds
        return model["cross_validation"]["metrics"][metric]["mean"] if split == "cv" else model[split][metric]

    scores = {model["name"]: score(model) for model in results["models"]}
    for model in results["models"]:
        value, target = scores[model["name"]], spec.get("targets", {}).get(model["name"])
        if model["name"] in spec.get("relative_targets", {}):  # model -> (other model, margin): >= other + margin
            other, margin = spec["relative_targets"][model["name"]]
            target = round(scores[other] + margin, 4)
        passed = None if target is None else value >= target
        rows.append((f"{model['name']} {split} {metric}", round(value, 4), f">= {target}" if target else "", passed))
        limit = spec.get("max_train_s", {}).get(model["name"])
        seconds = model["train_runtime_s"]
        rows.append((f"{model['name']} training time (s)", seconds, f"<= {limit}" if limit else "",
                     None if limit is None else seconds <= limit))  # fmt: skip
        rows.append((f"{model['name']} training samples/s", model["train_samples_per_second"], "", None))
        rows.append((f"{model['name']} inference (ms/sample)", model["inference_ms_per_sample"], "", None))
    for members, minimum in spec.get("best_targets", []):  # the best of several models must reach a figure
        best = max(members, key=scores.__getitem__)
        rows.append((f"best of {'/'.join(members)} ({best})", round(scores[best], 4), f">= {minimum}",
                     scores[best] >= minimum))  # fmt: skip
    for members, other, margin in spec.get("best_relative_targets", []):  # the best of several >= another + margin
        best, minimum = max(members, key=scores.__getitem__), round(scores[other] + margin, 4)
        rows.append((f"best of {'/'.join(members)} ({best}) vs {other}", round(scores[best], 4), f">= {minimum}",
                     scores[best] >= minimum))  # fmt: skip
    for model_name, (other, minimum) in spec.get("speedups", {}).items():  # model -> (other run's model, ratio)
        reference = json.loads((output_root / other[0] / "results.json").read_text())["models"]
        base = next(m for m in reference if m["name"] == other[1])["train_samples_per_second"]
        ours = next(m for m in results["models"] if m["name"] == model_name)["train_samples_per_second"]
        rows.append((f"{model_name} samples/s vs {other[0]}", round(ours / base, 2), f">= {minimum}",
                     ours / base >= minimum))  # fmt: skip
    size = results["num_examples"]["train" if split == "cv" else split]  # cross-validation folds the train split
    print(f"\n== {name}: {results['dataset']} ({split} n={size})")
    for label, value, target, passed in rows:
        mark = "" if passed is None else ("PASS" if passed else "FAIL")
        print(f"  {label:<46} {value!s:>10}  {target:<8} {mark}")
    ok = all(passed is not False for *_, passed in rows)
    return {"wall_s": wall and round(wall, 1), "ok": ok, "rows": [r[:3] for r in rows], "command": " ".join(command)}


def main(script: str, benchmarks: dict[str, dict[str, Any]], results_name: str, doc: str | None) -> None:
    """Command line of a bench script: ``--only NAME`` runs one of ``benchmarks``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated benchmarks to run, of: {', '.join(benchmarks)}")
    parser.add_argument("--output_root", default=str(ROOT / "outputs" / "bench"), help="where the runs write")
    parser.add_argument("--report_only", action="store_true", help="check the runs already in --output_root again")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",")] if args.only else list(benchmarks)
    unknown = [n for n in names if n not in benchmarks]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(benchmarks)}.")
    for name in names:
        for needed in benchmarks[name].get("needs", []):
            if not Path(needed).exists():
                sys.exit(f"{needed} not found: the {name} benchmark needs ../shared/data beside the checkout.")
    report = {
        name: run(script, name, benchmarks[name], Path(args.output_root), report_only=args.report_only)
        for name in names
    }
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    path = results_dir / f"{results_name}.json"
    earlier = json.loads(path.read_text()) if path.is_file() else {}  # a partial rerun keeps the others' figures
    path.write_text(json.dumps({**earlier, **report}, indent=2) + "\n")
    sys.exit(0 if all(r["ok"] for r in report.values()) else 1)
