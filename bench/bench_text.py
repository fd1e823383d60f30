"""Benchmark of the text pipeline: the figures issue #2 asks for, measured on this machine.

    python bench/bench_text.py                 # both benchmarks (about 30 minutes on a 2-core CPU)
    python bench/bench_text.py --only bbc      # or --only tweets

Runs train_text.py as a user would (a separate process, `accelerate launch -q`), then reads the
results.json it wrote. Prints each figure next to its target and writes bench/results/text.json.
Exits non-zero when a target is missed.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TWEETS = ROOT.parent / "shared" / "data" / "disaster-tweets" / "train.csv"

BENCHMARKS = {
    "bbc": {
        "args": [],
        "max_wall_s": 15 * 60,
        "metric": "accuracy",
        "targets": {"transformer": 0.97, "glove-lstm": 0.93, "scratch-simple": 0.90, "scratch-complex": 0.90},
    },
    "tweets": {
        "args": ["--train_file", str(TWEETS), "--text_column", "text", "--label_column", "target"],
        "max_wall_s": None,
        "metric": "f1_positive",
        "targets": {"transformer": 0.78, "glove-lstm": 0.74, "scratch-simple": 0.70, "scratch-complex": 0.70},
    },
}


def run(name: str, output_root: Path) -> dict:
    spec = BENCHMARKS[name]
    output = output_root / name
    launcher = [str(Path(sys.executable).parent / "accelerate"), "launch", "-q"]
    command = [*launcher, str(ROOT / "training" / "train_text.py"), *spec["args"], "--output_dir", str(output),
               "--overwrite_output_dir"]  # fmt: skip
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = time.perf_counter() - start
    results = json.loads((output / "results.json").read_text())
    rows, ok = [], True
    if spec["max_wall_s"]:
        passed = wall <= spec["max_wall_s"]
        ok &= passed
        rows.append(("wall time (s)", round(wall, 1), f"<= {spec['max_wall_s']}", passed))
    for model in results["models"]:
        value = model["test"][spec["metric"]]
        target = spec["targets"][model["name"]]
        ok &= value >= target
        rows.append((f"{model['name']} test {spec['metric']}", round(value, 4), f">= {target}", value >= target))
        rows.append((f"{model['name']} training time (s)", model["train_runtime_s"], "", None))
        rows.append((f"{model['name']} inference (ms/sample)", model["inference_ms_per_sample"], "", None))
    print(f"\n== {name}: {results['dataset']} (test n={results['num_examples']['test']})")
    for label, value, target, passed in rows:
        mark = "" if passed is None else ("PASS" if passed else "FAIL")
        print(f"  {label:<42} {value!s:>10}  {target:<8} {mark}")
    return {"wall_s": round(wall, 1), "ok": ok, "rows": [r[:3] for r in rows], "command": " ".join(command)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run one benchmark")
    parser.add_argument("--output_root", default=str(ROOT / "outputs" / "bench"), help="where the runs write")
    args = parser.parse_args()
    names = [args.only] if args.only else list(BENCHMARKS)
    if "tweets" in names and not TWEETS.is_file():
        sys.exit(f"{TWEETS} not found: the tweets benchmark needs ../shared/data beside the checkout.")
    report = {name: run(name, Path(args.output_root)) for name in names}
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / "text.json").write_text(json.dumps(report, indent=2) + "\n")
    sys.exit(0 if all(r["ok"] for r in report.values()) else 1)


if __name__ == "__main__":
    main()
